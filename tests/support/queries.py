"""Counting the queries a request makes, for tests that pin what a page costs (HOUSE_STYLE 13)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Counted:
    """A response and the SQL of every query it took, in order."""

    response: HttpResponse
    queries: list[str]

    def json(self) -> Any:
        return self.response.json()


def get_counted(client, path: str, params: dict[str, Any] | None = None) -> Counted:
    """GET ``path`` with ``client``, asserting a 200, and return the response with its queries."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:500]
    return Counted(response, [query["sql"] for query in captured.captured_queries])


def assert_each_costs(expected: int, reads: dict[str, Counted]) -> None:
    """Assert every read in ``reads`` (label -> counted response) made exactly ``expected`` queries.

    The counts are compared all at once, so a failure shows which reads grew (a query per row looks
    like ``{"page of 2": 4, "page of 50": 52}``), followed by the SQL of the costliest read.
    """
    counts = {label: len(read.queries) for label, read in reads.items()}
    label, worst = max(reads.items(), key=lambda item: abs(len(item[1].queries) - expected))
    sql = "\n".join(f"  {query}" for query in worst.queries)
    assert counts == dict.fromkeys(reads, expected), (
        f"expected {expected} queries for each read, got {counts}; the queries of {label}:\n{sql}"
    )
