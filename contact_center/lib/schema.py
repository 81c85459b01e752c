"""One schema layer for what clients send: socket frames, JSON bodies and query strings (decision D15).

Input is parsed by orjson, which refuses what Python's json module turns into crashes further in:
nesting deeper than 1024 (json recurses until RecursionError), NaN and Infinity, and numbers that
overflow a double (json makes 1e999 an infinity, which int() refuses with OverflowError). orjson
still reads integers up to 2^64-1, and both parsers read NUL bytes and any length of text, so every
parsed value then passes `check_json` (no NUL anywhere, no integer a database column cannot hold),
and each frame or request is validated into its declared pydantic model: wrong types, ids out of
range and oversized text are refused here, before any handler or query sees them.

The layer refuses shapes only. What a valid shape may mean (a body too long, a label that does not
exist, an attachment that is not the sender's) stays with the check_* functions and their own error
codes, so a client tells "my client is broken" (bad_frame, a 400 from here) from "this value is not
accepted" (invalid, not_found…).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

import orjson
from django.http import HttpRequest, JsonResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from pydantic import ValidationError as SchemaError

# The widest integer SQLite and PostgreSQL (bigint) store; Python ints beyond it raise OverflowError
# in the SQLite driver and a DataError in PostgreSQL.
MAX_ID = 2**63 - 1
MIN_INT = -(2**63)
# Text that is not a message body (names, ids, hashes, filters): generous for any real value.
MAX_SHORT_TEXT = 2_000

__all__ = [
    "MAX_ID",
    "Frame",
    "Body",
    "SchemaError",
    "check_json",
    "parse_json",
    "parse_frame",
    "parse_json_body",
    "parse_query",
    "is_id",
]


class HostileInput(ValueError):
    """A value no handler should see: say why, in words a client developer understands."""


def parse_json(data: str | bytes, *, check: bool = True) -> Any:
    """JSON text to Python values, refusing what could crash a later step (HostileInput).

    ``check=False`` leaves check_json to the caller (a frame's, which then knows what to echo).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).split(":", 1)[0]
        raise HostileInput(f"not JSON ({reason})") from exc
    if check:
        check_json(value)
    return value


def check_json(value: Any) -> None:
    """Refuse NUL characters (PostgreSQL text cannot hold them) and out-of-range integers, at any depth.

    Iterative: a recursive walk would hit Python's recursion limit on orjson's 1024 levels.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise HostileInput("text may not contain NUL characters")
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue
        elif isinstance(item, int):
            if not MIN_INT <= item <= MAX_ID:
                raise HostileInput("integers are at most 2^63-1 in size")
        elif isinstance(item, dict):
            for key in item:
                if "\x00" in key:
                    raise HostileInput("text may not contain NUL characters")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def is_id(value: Any) -> bool:
    """Whether ``value`` is an id a row can have (a handler answers not_found otherwise)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


# Text without NUL characters, checked by pydantic-core's own regex engine (no Python call per field).
NO_NUL = StringConstraints(pattern=r"^[^\x00]*$")
# A frame's text may hold a NUL only as the escape \u0000, and an integer past 2^63-1 only as a run of
# 19 digits or more: text with neither needs no walk (check_json) after parsing.
_MAYBE_HOSTILE = re.compile(r"\\u0000|[0-9]{19}")


def _loose_seq(value: Any) -> int:
    # The protocols say a missing, negative or non-integer seq counts as 0: the client holds nothing.
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(0, value), MAX_ID)


def _ref(value: Any) -> Any:
    # A reference to a row, echoed in the error that answers it: only a scalar can be echoed safely.
    if isinstance(value, (list, dict)):
        raise ValueError("an id is a number")
    return value


# An id a row can have: what a client must send where the protocol says "id".
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Int = Annotated[StrictInt, Field(ge=MIN_INT, le=MAX_ID)]
# A seq where the protocol says a bad one counts as 0 (hello, sync).
LooseSeq = Annotated[int, BeforeValidator(_loose_seq)]
# An id where the protocol answers anything that is not one with not_found (which echoes the value):
# any JSON scalar; the handler checks it with is_id().
Ref = Annotated[Any, AfterValidator(_ref)]
ClientId = Annotated[StrictStr, Field(min_length=8, max_length=64), NO_NUL]
ShortText = Annotated[StrictStr, Field(max_length=MAX_SHORT_TEXT), NO_NUL]
# A message body: its own limit (PARLEY_MESSAGE_MAX_CHARS, after trimming) is check_body's, which
# answers `invalid`; this bound only keeps the type and the frame's size.
Body = Annotated[StrictStr, Field(max_length=64 * 1024), NO_NUL]


def text(max_length: int) -> Any:
    return Annotated[StrictStr, Field(max_length=max_length), NO_NUL]


class Frame(BaseModel):
    """A frame's declared fields. Unknown fields are kept (already free of NUL and huge integers by
    check_json) and passed on: the protocols ignore them, and `customer` names the one refused."""

    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)

    type: str
    # Fields of the frame that the error answering it repeats (the protocol docs' error tables), so a
    # client can match the refusal to what it sent (client_id: drop that pending write).
    echo: ClassVar[tuple[str, ...]] = ()
    # The widget's identify/attributes/prechat errors name the frame they answer ("for").
    answer_for: ClassVar[bool] = False

    def content(self) -> dict:
        """The frame as the handler reads it: the fields that were sent, validated (not model_dump, which
        costs as much as the validation itself)."""
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        return {**sent, **self.__pydantic_extra__} if self.__pydantic_extra__ else sent


def _message(exc: SchemaError) -> str:
    error = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def parse_frame(model: type[Frame], content: dict, text: str | None = None) -> Frame | dict:
    """The frame validated into ``model``, or the ``bad_frame`` error frame that answers it.

    ``text``, the JSON the frame was parsed from, lets a frame that cannot hold a NUL or a huge integer
    skip the walk for them."""
    try:
        if text is None or _MAYBE_HOSTILE.search(text):
            check_json(content)
        return model.model_validate(content)
    except (HostileInput, SchemaError) as exc:
        message = _message(exc) if isinstance(exc, SchemaError) else str(exc)
        error = {"type": "error", "code": "bad_frame", "message": message}
        for key in model.echo:
            value = content.get(key)
            # Echo what the client can match on (a scalar it sent), never what made the frame bad.
            scalar = isinstance(value, (str, int, float)) and not isinstance(value, bool)
            if scalar and (not isinstance(value, str) or ("\x00" not in value and len(value) <= 64)):
                error[key] = value
        if model.answer_for:
            error["for"] = content.get("type")
        return error


class Request(BaseModel):
    """A JSON body or query string's declared fields; unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    # field -> the 400's message when that field is refused (the endpoint's documented wording).
    messages: ClassVar[dict[str, str]] = {}
    # Endpoints whose 400 names the refused field ({"error", "field"}).
    name_field: ClassVar[bool] = False

    def content(self) -> dict:
        """The fields that were sent, validated."""
        return self.model_dump(exclude_unset=True)


def _digits(value: str) -> str:
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
    if value and not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
        raise ValueError("must be a number")
    return value


# A query parameter that names a row (or is empty: none): the view gets the text, as before.
QueryId = Annotated[StrictStr, Field(max_length=19), AfterValidator(_digits)]
QueryText = Annotated[StrictStr, Field(max_length=MAX_SHORT_TEXT), NO_NUL]


def _bad_request(message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=400)


def _request_message(model: type[Request], exc: SchemaError) -> str:
    loc = exc.errors(include_url=False)[0]["loc"]
    return model.messages.get(str(loc[0]) if loc else "", None) or _message(exc)


def parse_json_body(request: HttpRequest, model: type[Request], *, empty: str = "{}") -> Request | JsonResponse:
    """The request's JSON body validated into ``model``, or a 400 ``{"error": ...}`` response."""
    try:
        data = parse_json(request.body or empty.encode())
    except HostileInput as exc:
        message = "the body must be JSON" if str(exc).startswith("not JSON") else str(exc)
        return _bad_request(message)
    if not isinstance(data, dict):
        return _bad_request("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except SchemaError as exc:
        loc = exc.errors(include_url=False)[0]["loc"]
        extra = {"field": str(loc[0])} if model.name_field and loc else {}
        return _bad_request(_request_message(model, exc), **extra)


def parse_query(request: HttpRequest, model: type[Request]) -> Request | JsonResponse:
    """The query string validated into ``model`` (the last value of each name), or a 400 response.

    Each parameter's type decides about NUL characters: most refuse them (QueryText, QueryId); a search
    box's text keeps them, for its reader only ever makes words of it."""
    data = {key: request.GET[key] for key in request.GET}
    try:
        return model.model_validate(data)
    except SchemaError as exc:
        return _bad_request(_request_message(model, exc))
