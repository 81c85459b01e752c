"""Property: no input breaks Parley (issue 10). Hypothesis drives every frame type of both sockets (each
socket's FRAMES table) and every widget JSON endpoint with hostile values: nesting past any parser's
depth, integers past 2^63, 1e999 / Infinity / NaN, NUL characters, wrong JSON types, long text and
missing fields. Every answer is a documented one (an error frame with a documented code, a 4xx), the
socket stays open (a later hello is still answered with ready) and nothing is logged as an error.

Examples are few (the suite runs on a shared machine); each run draws new ones, and a failure prints the
smallest frame that breaks the server.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contact_center.frames import FRAMES as CONSOLE_FRAMES
from tests.consumers import WAIT, _session_cookie, console_socket, visitor_socket
from widget.frames import FRAMES as WIDGET_FRAMES
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_error_logged", "whole_rate_window")]

HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SHOP = "https://shop.example"
# Error codes the protocol docs list for the two sockets.
DOCUMENTED_CODES = {"bad_frame", "invalid", "not_found", "rate_limited", "unverified", "verification_required"}

# Raw JSON text that json.dumps cannot produce (or would recurse on): spliced in for a placeholder.
RAW = {
    "@nested@": "[" * 3_000 + "]" * 3_000,
    "@unclosed@": "{" * 2_000,
    "@inf@": "1e999",
    "@-inf@": "-1e999",
    "@nan@": "NaN",
    "@Infinity@": "Infinity",
}

hostile_scalar = st.one_of(
    st.sampled_from(list(RAW)),
    st.integers(min_value=2**63, max_value=2**64 - 1),
    st.integers(min_value=-(2**64), max_value=-(2**63) - 1),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=20).map(lambda text: text + "\x00"),
    st.text(max_size=40),
    st.just("x" * 70_000),
)
hostile_value = st.recursive(
    hostile_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def encode(value) -> str:
    text = json.dumps(value)
    for placeholder, raw in RAW.items():
        text = text.replace(json.dumps(placeholder), raw)
    return text


def frames_of(table: dict) -> st.SearchStrategy[str]:
    """A frame of a type in ``table``: its declared fields (some left out) and a few others, all hostile."""

    @st.composite
    def frame(draw) -> str:
        kind = draw(st.sampled_from(sorted(table)))
        names = [name for name in table[kind].model_fields if name != "type"]
        fields = draw(st.dictionaries(st.sampled_from(names or ["x"]), hostile_value, max_size=len(names) + 1))
        extra = draw(st.dictionaries(st.sampled_from(["type", "x", "client_id", "conversation"]), hostile_value))
        content = {"type": kind, **fields, **{k: v for k, v in extra.items() if draw(st.booleans())}}
        if draw(st.integers(0, 9)) == 0:
            return encode([content])  # not an object
        return encode(content)

    return frame()


async def answers_then_stays_open(communicator, text: str, hello: dict) -> None:
    """Send ``text``, then ``hello``: every frame up to ``ready`` is documented, and ``ready`` comes."""
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, code
    try:
        await communicator.send_to(text_data=text)
        await communicator.send_json_to(hello)
        while True:
            output = await communicator.receive_output(timeout=WAIT)
            assert output["type"] == "websocket.send", f"the socket closed: {output} after {text[:300]!r}"
            frame = json.loads(output["text"])
            if frame["type"] == "ready":
                return
            if frame["type"] == "error":
                assert frame["code"] in DOCUMENTED_CODES, frame
                assert isinstance(frame.get("message", ""), str)
    finally:
        await communicator.disconnect(timeout=WAIT)


@HYPOTHESIS
@given(text=frames_of(WIDGET_FRAMES))
def test_no_visitor_frame_breaks_the_socket(website, text):
    token = issue_visitor_token(website.public_key, "vera")
    async_to_sync(answers_then_stays_open)(visitor_socket(token), text, {"type": "hello", "last_seq": 0})


@HYPOTHESIS
@given(text=frames_of(CONSOLE_FRAMES))
def test_no_console_frame_breaks_the_socket(alice, text):
    cookie = _session_cookie(alice)
    async_to_sync(answers_then_stays_open)(console_socket(cookie), text, {"type": "hello", "resume": {}})


WIDGET_BODIES = {
    "session": ["inbox", "token"],
    "poll": ["token", "last_seq", "page"],
    "messages": ["token", "client_id", "body", "page", "attachments"],
    "availability": ["token"],
    "offline": ["token", "client_id", "email", "body", "page"],
    "transcript": ["token", "email"],
    "suggestions": ["token", "text"],
    "deflections": ["token", "article", "outcome", "query"],
}


@st.composite
def widget_requests(draw) -> tuple[str, dict, bool]:
    endpoint = draw(st.sampled_from(sorted(WIDGET_BODIES)))
    names = WIDGET_BODIES[endpoint]
    # Mostly a real token (so the body gets past authentication), sometimes a hostile one.
    fields = draw(st.dictionaries(st.sampled_from(names), hostile_value, max_size=len(names)))
    keep_token = draw(st.booleans())
    return endpoint, fields, keep_token


@HYPOTHESIS
@given(drawn=widget_requests())
def test_no_widget_body_breaks_an_endpoint(client, website, drawn):
    endpoint, fields, keep_token = drawn
    body = {**fields}
    if keep_token:
        body["token"] = issue_visitor_token(website.public_key, "vera")
        body.setdefault("inbox", website.public_key)
    response = client.post(
        f"/widget/api/{endpoint}/", data=encode(body), content_type="application/json", headers={"Origin": SHOP}
    )

    assert response.status_code < 500, response.content[:300]
    if response.status_code == 400:
        assert isinstance(response.json()["error"], str)
