"""Raw mail bytes to a ``ParsedEmail``: the one parse step every way in shares (issue 13, points 2 and 4).

``parse`` never raises, whatever the bytes: the standard library's strict header parsing
(``policy.default``) raises or misreads on headers mail servers deliver every day, and is slow, so the
message is split with the lenient ``compat32`` parser and only the headers Parley reads are decoded,
each on its own, each degrading rather than failing. What had to be guessed or dropped is listed in
``ParsedEmail.defects``.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from channels_adapters.email import noise
from channels_adapters.email.decode import (
    addresses,
    decode_bytes,
    decode_words,
    header_text,
    message_ids,
    raw_header_text,
)
from channels_adapters.email.html import html_to_text, sanitize_html

# Deeper than any client nests (forwards of forwards reach 6 or 7): past it, parts are not read.
MAX_DEPTH = 30
# The headers Parley reads; every other header stays in the stored raw bytes and is never decoded.
_WANTED = {
    "from", "sender", "to", "cc", "reply-to", "subject", "message-id", "in-reply-to", "references", "date",
    "auto-submitted", "x-autoreply", "x-autorespond", "precedence", "x-auto-response-suppress", "list-id",
    "list-unsubscribe",
}  # fmt: skip
# Headers a message has once (RFC 5322 section 3.6); a second one is a defect and the first one wins.
_SINGLE = {"from", "to", "cc", "subject", "message-id", "in-reply-to", "references", "date", "reply-to"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    inline: bool
    # Without the angle brackets: the ``x`` of ``<img src="cid:x">`` in the sanitised HTML.
    content_id: str | None


@dataclass(frozen=True)
class ParsedEmail:
    """One inbound mail as Parley reads it. Addresses are normalised (lower-cased), "" or empty when absent."""

    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    auto: str | None = None  # None, "auto-reply", "bounce" or "list" (channels_adapters/email/noise.py)
    bounce_of: str | None = None  # the Message-ID a delivery status notification returns
    bounce_reason: str = ""
    defects: list[str] = field(default_factory=list)


def parse(raw: bytes) -> ParsedEmail:
    """``raw`` read as a mail message. Never raises: what cannot be read is left out and named in
    ``defects``; bytes that are no mail at all give an empty ``ParsedEmail`` with a defect."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    try:
        return _Reader(raw).read()
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"; the bytes are stored regardless
        defects = [f"the message could not be read ({type(exc).__name__}); headers only"]
        try:
            headers_only = BytesHeaderParser(policy=compat32).parsebytes(raw)
            reader = _Reader(raw, message=headers_only)
            reader.defects.extend(defects)
            return reader.read(body=False)
        except Exception:  # noqa: BLE001
            return ParsedEmail(defects=[f"the message could not be read ({type(exc).__name__})"])


class _Reader:
    def __init__(self, raw: bytes, message: Message | None = None):
        self.message = message if message is not None else message_from_bytes(raw, policy=compat32)
        self.defects: list[str] = []
        self.headers: dict[str, list[str]] = {}
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.is_report = False
        self.report_type = ""
        self.raw = raw
        self.segments: dict[str, list[bytes]] = {}
        self.linesep = "\r\n" if b"\r\n" in raw[:4096] else "\n"
        self.bounce_of: str | None = None
        self.bounce_reason = ""

    def read(self, body: bool = True) -> ParsedEmail:
        for name, value in self.message.raw_items():
            key = name.strip().lower()
            if key in _WANTED:
                self.headers.setdefault(key, []).append(raw_header_text(value, self.defects, name.strip()))
        for key in sorted(_SINGLE & self.headers.keys()):
            if len(self.headers[key]) > 1:
                which = "all are read" if key in ("to", "cc") else "the first is read"
                self.defects.append(f"{key}: {len(self.headers[key])} headers where there is one; {which}")
        sender = addresses(self.headers.get("from", [])[:1] or self.headers.get("sender", [])[:1], self.defects, "from")
        subject = header_text(self._first("subject"), self.defects, "subject")
        if body:
            self._walk(self.message, 0, related=False)
        for defect in self.message.defects:
            self._note(_defect_text(defect))
        text = "\n\n".join(part.strip("\r\n") for part in self.plain if part.strip())
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        html_source = "\n".join(self.html)
        html = sanitize_html(html_source) if html_source else ""
        if not text and html:
            # Rendered from nh3's well-formed output: html.parser is quadratic on some malformed
            # markup ("<a <a <a ..."), and scripts and styles are gone already.
            text = html_to_text(html)
        if html_source and "cid:" in html_source:
            self._mark_referenced_inline(html_source)
        from_address = sender[0][1] if sender else ""
        auto = noise.classify(self.headers, subject, from_address, self.report_type)
        if auto == noise.BOUNCE and self.bounce_of is None and not self.is_report:
            # Older MTAs (qmail, some Exim set-ups) return the message inline in the text, not as a part.
            quoted = re.search(r"(?im)^[ \t>]*message-id:[ \t]*(<[^<>\s]+>)", text)
            self.bounce_of = quoted.group(1) if quoted else None
        return ParsedEmail(
            from_address=from_address,
            from_name=sender[0][0] if sender else "",
            to=[address for _, address in addresses(self.headers.get("to", []), self.defects, "to")],
            cc=[address for _, address in addresses(self.headers.get("cc", []), self.defects, "cc")],
            reply_to=[
                address for _, address in addresses(self.headers.get("reply-to", [])[:1], self.defects, "reply-to")
            ],
            subject=subject,
            message_id=next(iter(message_ids(self._first("message-id"))), None),
            in_reply_to=next(iter(message_ids(self._first("in-reply-to"))), None),
            references=message_ids(" ".join(self.headers.get("references", [])[:1])),
            date=self._date(),
            text=text,
            html=html,
            attachments=self.attachments,
            auto=auto,
            bounce_of=self.bounce_of if auto == noise.BOUNCE else None,
            bounce_reason=self.bounce_reason if auto == noise.BOUNCE else "",
            defects=self.defects,
        )

    def _mark_referenced_inline(self, html_source: str) -> None:
        # What the HTML shows through cid: is part of the body wherever its disposition says otherwise
        # (Gmail's bounces mark their icon "attachment" and show it inline).
        shown = {ref.lower() for ref in re.findall(r"cid:([^\s\"'<>)]+)", html_source)}
        self.attachments = [
            replace(a, inline=True) if a.content_id and a.content_id.lower() in shown else a for a in self.attachments
        ]

    def _first(self, name: str) -> str:
        values = self.headers.get(name)
        return values[0] if values else ""

    def _note(self, defect: str) -> None:
        if defect not in self.defects:
            self.defects.append(defect)

    def _date(self) -> datetime | None:
        value = decode_words(self._first("date")).strip()
        if not value:
            return None
        try:
            date = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            self._note(f"date: {value[:60]!r} is not a date")
            return None
        # "-0000" (and a missing zone) mean "UTC, local zone unknown": RFC 5322 section 3.3.
        return date if date.tzinfo else date.replace(tzinfo=UTC)

    def _walk(self, part: Message, depth: int, related: bool, boundary: str = "", index: int = 0) -> None:
        """Reads ``part``, the ``index``-th part of a multipart whose boundary is ``boundary``."""
        if depth > MAX_DEPTH:
            self._note(f"parts nested deeper than {MAX_DEPTH} levels are not read")
            return
        ctype = _content_type(part)
        payload = _payload(part)
        if ctype == "multipart/report" and not self.report_type:
            self.report_type = _param(part, "report-type").lower()
            self.is_report = self.report_type == "delivery-status"
        if isinstance(payload, list):
            if ctype.startswith("message/"):
                self._attach_message(part, ctype, payload, self._raw_part_body(boundary, index, depth))
                return
            inner = _param(part, "boundary")
            for child_index, child in enumerate(payload):
                if isinstance(child, Message):
                    self._walk(child, depth + 1, related or ctype == "multipart/related", inner, child_index)
            if not payload and isinstance(part.preamble, str) and part.preamble.strip():
                # A multipart whose boundary never appears: its whole body is the preamble.
                self._note("a multipart's boundary never appears; its body is read as text")
                self.plain.append(decode_bytes(_surrogate_bytes(part.preamble), _charset(part), self.defects))
            return
        self._read_leaf(part, ctype, related)

    def _read_leaf(self, part: Message, ctype: str, related: bool) -> None:
        disposition = _disposition(part)
        filename = self._filename(part)
        content = self._content(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = decode_bytes(content, _charset(part), self.defects, ctype)
            (self.html if ctype == "text/html" else self.plain).append(text)
            return
        if ctype.startswith("multipart/"):
            # No boundary parameter, or one that never appears: the body cannot be split, and is all there is.
            self._note(f"a {ctype} could not be split (its boundary never appears); its body is read as text")
            self.plain.append(decode_bytes(content, _charset(part), self.defects, ctype))
            return
        if ctype == "text/rfc822-headers":
            self._read_returned_headers(content)
        content_id = _content_id(_raw(part, "content-id"))
        inline = disposition == "inline" or (disposition is None and related and content_id is not None)
        self.attachments.append(
            Attachment(
                filename=filename,
                content_type=ctype,
                size=len(content),
                content=content,
                inline=inline,
                content_id=content_id,
            )
        )

    def _attach_message(self, part: Message, ctype: str, payload: list, raw_body: bytes | None) -> None:
        """A message/* part (a forwarded mail, a bounce's returned mail or status) kept as an attachment
        of its bytes as received (``raw_body``) or, where they cannot be found, written anew; its parts
        are not read as this message's text."""
        blocks = [item for item in payload if isinstance(item, Message)]
        if ctype == "message/delivery-status":
            self._read_delivery_status(blocks)
        elif self.is_report and self.bounce_of is None and blocks:
            ids = message_ids(raw_header_text(_raw(blocks[0], "message-id")))
            self.bounce_of = ids[0] if ids else None
        self.attachments.append(
            Attachment(
                filename=self._filename(part),
                content_type=ctype,
                content=(content := raw_body if raw_body is not None else self._serialize(blocks)),
                size=len(content),
                inline=False,
                content_id=None,
            )
        )

    def _raw_part_body(self, boundary: str, index: int, depth: int) -> bytes | None:
        """The body of the ``index``-th part between ``boundary`` delimiters, as received; for the top
        level (``depth`` 0), the message's body. None when the delimiters do not add up."""
        if depth == 0:
            found = _HEADER_END.search(self.raw)
            return self.raw[found.end() :] if found else b""
        if not boundary:
            return None
        if boundary not in self.segments:
            delimiter = re.compile(rb"(?m)^--" + re.escape(_surrogate_bytes(boundary)) + rb"(?:--)?[ \t]*\r?$")
            ends = [(m.start(), m.end()) for m in delimiter.finditer(self.raw)]
            # The line break before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
            self.segments[boundary] = [
                _strip_line_break(self.raw[end + 1 : next_start])
                for (_, end), (next_start, _) in zip(ends, ends[1:], strict=False)
            ]
        segments = self.segments[boundary]
        if index >= len(segments):
            return None
        found = _HEADER_END.search(segments[index])
        if not found or b"message/" not in segments[index][: found.start()].lower():
            return None  # a boundary reused inside a part: the count is off, so these are not its bytes
        return segments[index][found.end() :]

    def _serialize(self, blocks: list[Message]) -> bytes:
        # Written anew (compat32, not refolding, writes headers as they came) where the received bytes
        # cannot be found; like a part, they end with one line break.
        policy = compat32.clone(linesep=self.linesep, max_line_length=0)
        chunks = []
        for block in blocks:
            try:
                chunks.append(block.as_bytes(policy=policy))
            except Exception:  # noqa: BLE001 - the generator refuses headers it could not have written
                self._note("an attached message could not be written back exactly")
                chunks.append(_write_plainly(block, self.linesep, 0))
        content = b"".join(chunks).rstrip(b"\r\n")
        return content + self.linesep.encode() if content else b""

    def _read_delivery_status(self, blocks: list[Message]) -> None:
        status = diagnostic = ""
        for block in blocks:
            status = status or header_text(_raw(block, "status"))
            diagnostic = diagnostic or header_text(_raw(block, "diagnostic-code"))
        if diagnostic.lower().startswith(("smtp;", "x-postfix;", "x-unix;")):
            diagnostic = diagnostic.split(";", 1)[1].strip()
        reason = diagnostic or status
        if status and diagnostic and status not in diagnostic:
            reason = f"{status} {diagnostic}"
        self.bounce_reason = self.bounce_reason or reason

    def _read_returned_headers(self, content: bytes) -> None:
        if self.bounce_of is not None:
            return
        found = re.search(rb"(?im)^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)", content)
        if found:
            self.bounce_of = found.group(1).decode("ascii", "replace")

    def _filename(self, part: Message) -> str:
        try:
            name = part.get_filename()
        except Exception:  # noqa: BLE001 - RFC 2231 continuations in the wild defeat the stdlib now and then
            self._note("an attachment's filename could not be read")
            name = None
        if not name:
            return ""
        if not isinstance(name, str):
            name = str(name)
        # Outlook writes RFC 2047 words in filename parameters, which RFC 2231 never allowed.
        name = decode_words(raw_header_text(name, self.defects, "filename"), self.defects, "filename")
        return re.sub(r"[\x00-\x1f/\\]+", "_", name).strip()

    def _content(self, part: Message) -> bytes:
        payload = _payload(part)
        if isinstance(payload, str) and _raw(part, "content-transfer-encoding").strip().lower() == "base64":
            return self._base64(payload)
        try:
            content = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001 - a transfer encoding too broken to decode: keep the bytes as sent
            self._note("a part's transfer encoding could not be decoded; kept as sent")
            content = None
        if content is None:
            content = _surrogate_bytes(payload) if isinstance(payload, str) else b""
        for defect in part.defects:
            self._note(_defect_text(defect))
        return content

    def _base64(self, payload: str) -> bytes:
        # The stdlib gives up on a wrong length and returns the encoded text; mail cut short or padded
        # wrongly still holds every whole byte before the damage, so decode those.
        compact = _WHITESPACE.sub(b"", _surrogate_bytes(payload))
        data = _BASE64_JUNK.sub(b"", compact)
        if len(compact) % 4 or _BASE64_JUNK.search(compact.rstrip(b"=")):
            self._note("base64 with a wrong length or stray characters; decoded what is whole")
        if len(data) % 4 == 1:
            data = data[:-1]
        try:
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            self._note("base64 that cannot be decoded; kept as sent")
            return _surrogate_bytes(payload)


_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_WHITESPACE = re.compile(rb"\s+")


def _payload(part: Message) -> str | list:
    """The part's payload as parsed: its subparts, or its body as text with 8-bit bytes as surrogates.
    ``get_payload()`` would instead decode 8-bit bodies with the declared charset (raising on a charset
    name with a NUL in it, and losing the bytes to replacement characters)."""
    payload = part._payload
    return payload if isinstance(payload, str | list) else ""


_HEADER_END = re.compile(rb"\r?\n\r?\n|^\r?\n")


def _strip_line_break(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data[:-1] if data.endswith(b"\n") else data


def _write_plainly(message: Message, linesep: str, depth: int) -> bytes:
    """``message`` written back without the stdlib's generator (which raises on a header holding a
    line that looks like another header): headers as parsed, then the body or the parts."""
    head = "".join(f"{name}: {value}{linesep}" for name, value in message.raw_items() if isinstance(value, str))
    payload = _payload(message)
    if not isinstance(payload, list):
        return _surrogate_bytes(head + linesep + payload)
    if depth > MAX_DEPTH:
        return _surrogate_bytes(head + linesep)
    parts = [_write_plainly(item, linesep, depth + 1) for item in payload if isinstance(item, Message)]
    boundary = _param(message, "boundary")
    if not boundary or _content_type(message).startswith("message/"):
        return _surrogate_bytes(head + linesep) + b"".join(parts)
    separator = _surrogate_bytes(f"{linesep}--{boundary}{linesep}")
    return (
        _surrogate_bytes(head + linesep + f"--{boundary}{linesep}")
        + separator.join(parts)
        + _surrogate_bytes(f"{linesep}--{boundary}--{linesep}")
    )


def _surrogate_bytes(text: str) -> bytes:
    return text.encode("ascii", "surrogateescape") if text.isascii() else text.encode("utf-8", "surrogateescape")


def _raw(part: Message, name: str) -> str:
    """The first ``name`` header of ``part`` as parsed, as text (compat32's ``get`` returns a ``Header``
    object for 8-bit values)."""
    for key, value in part.raw_items():
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return ""


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _content_id(value: str) -> str | None:
    """A Content-ID without its angle brackets (which some clients leave out), or None."""
    value = raw_header_text(value).strip()
    if value.startswith("<") and ">" in value:
        value = value[1 : value.index(">")]
    value = value.strip()
    return value if value and not any(char.isspace() for char in value) else None


def _disposition(part: Message) -> str | None:
    value = _raw(part, "content-disposition")
    word = value.split(";", 1)[0].strip().lower()
    return word or None


def _param(part: Message, name: str) -> str:
    """A Content-Type parameter as text, "" when absent or unreadable."""
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(value, tuple):  # RFC 2231 form: (charset, language, value)
        value = value[2]
    return str(value) if value else ""


def _charset(part: Message) -> str | None:
    return _param(part, "charset") or None


def _defect_text(defect: Exception) -> str:
    """A compat32 parser defect in words: its class name ("MissingHeaderBodySeparatorDefect") spaced out."""
    name = re.sub(r"Defect$", "", type(defect).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
