"""contact_center/lib/responses.py: the timeline pages' JSON, encoded by orjson."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.utils.translation import gettext_lazy

from contact_center.lib.responses import FastJsonResponse


def test_it_answers_the_json_jsonresponse_would():
    data = {"entries": [{"id": 1, "body": "caf\u00e9 \u2603", "payload": {"x": [1, 2.5, None, True]}}], "next": None}

    response = FastJsonResponse(data)

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == data


def test_a_translatable_label_is_its_text():
    assert json.loads(FastJsonResponse({"label": gettext_lazy("Open")}).content) == {"label": "Open"}


def test_anything_else_it_cannot_write_is_an_error_not_a_guess():
    with pytest.raises(TypeError):
        FastJsonResponse({"when": {1, 2}})
    assert json.loads(FastJsonResponse({"at": datetime(2026, 12, 2, 13, 0)}).content) == {"at": "2026-12-02T13:00:00"}
