"""The email parser against the fixture corpus: every message in tests/fixtures/mail/ parses to what
its entry in expected.json says (the corpus and its manifest format: tests/fixtures/mail/README.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from channels_adapters.email.parse import ParsedEmail, parse

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "mail"
MANIFEST = CORPUS / "expected.json"
EXPECTED = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}

# Where the quoted history of a reply or its signature starts: an attribution line ("On 3 May 2026,
# Dana wrote:"), Outlook's "-----Original Message-----" or "From: ... Sent: ..." block, "> " quoting,
# or the "-- " signature delimiter. Parsing keeps the whole text (the full body is always one click
# away); collapsing history and signatures is the display's step (issue 13 point 5), so the manifest's
# phrases that are "not in the new text" are looked for before this point.
_HISTORY = re.compile(
    r"(?im)^\s*(>|on .{3,200}wrote:?\s*$|-{2,}\s*original message\s*-{2,}|_{10,}\s*$|-- ?$"
    r"|from:.*\n(.*\n)?\s*(sent|date):)"
)
_SPACES = re.compile(r"\s+")


def new_text(text: str) -> str:
    found = _HISTORY.search(text)
    return text[: found.start()] if found else text


def words(text: str) -> str:
    """Text as a reader sees it: a phrase the manifest names may wrap across lines in the message."""
    return _SPACES.sub(" ", text)


def _attachments(parsed: ParsedEmail) -> list[dict]:
    return [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "inline": a.inline}
        for a in parsed.attachments
    ]


@pytest.mark.skipif(not EXPECTED, reason="the corpus is not there yet")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_parses_each_corpus_message_as_its_manifest_says(name):
    expected = EXPECTED[name]
    parsed = parse((CORPUS / name).read_bytes())

    assert parsed.from_address == expected["from"]
    assert parsed.from_name == expected["from_name"]
    assert parsed.to == expected["to"]
    assert parsed.cc == expected["cc"]
    assert parsed.subject == expected["subject"]
    assert parsed.message_id == expected["message_id"]
    assert parsed.in_reply_to == expected["in_reply_to"]
    assert parsed.references == expected["references"]
    for phrase in expected["text_contains"]:
        assert words(phrase) in words(parsed.text)
    for phrase in expected.get("text_excludes", []):
        assert words(phrase) not in words(new_text(parsed.text))
    assert bool(parsed.html) == expected["has_html"]
    assert _attachments(parsed) == expected["attachments"]
    assert parsed.auto == expected["auto"]
    assert parsed.bounce_of == expected.get("bounce_of")
