"""Turning mail's bytes into text without ever raising: charsets, RFC 2047 words, addresses, Message-IDs.

Mail in the wild declares charsets Python has never heard of, declares one and is written in another,
puts raw 8-bit bytes in headers, and splits a multi-byte character across two encoded words. Each
function here degrades to a best-effort answer and, where it guessed, appends what it guessed to the
``defects`` list it is given, so the console can say why a message reads oddly.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from email.utils import getaddresses

from django.core.exceptions import ValidationError

from contact_center.lib.identity import normalize_identity

# Labels that mean "I don't know": decode by guessing rather than recording an unknown charset.
_UNKNOWN = {"", "unknown", "unknown-8bit", "x-unknown", "default", "x-user-defined", "charset"}
# Mail labelled with a legacy charset is almost always written in the vendor superset of it (Outlook's
# "iso-8859-1" with curly quotes is windows-1252): decoding with the superset loses nothing.
_SUPERSETS = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "euc-cn": "gb18030",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "iso-2022-jp": "iso2022_jp_2", "big5": "big5hkscs", "tis-620": "cp874",
    "windows-874": "cp874", "utf8": "utf-8", "x-mac-roman": "mac_roman",
}  # fmt: skip


# Charsets that write non-ASCII text in ASCII bytes: ASCII input is not yet text in these.
_SEVEN_BIT_CODECS = ("iso2022", "utf-7", "utf_7", "hz", "utf-16", "utf-32")


def _codec(charset: str | None) -> str | None:
    """A Python text codec for a declared charset label, or None when there is no usable one."""
    label = (charset or "").strip().strip("\"'").lower()
    if label in _UNKNOWN:
        return None
    label = _SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    # base64, rot13, zlib... are codecs too, but not text ones: a charset of "zlib" is not a charset.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None, what: str = "text") -> str:
    """``data`` as text in its declared ``charset`` when that works; else UTF-8; else Windows-1252, else
    the declared charset with replacement characters; else Latin-1, which decodes every byte string."""
    codec = _codec(charset)
    if data.isascii() and not (codec and codec.startswith(_SEVEN_BIT_CODECS)):
        return data.decode("ascii")
    declared = (charset or "").strip().strip("\"'")
    if codec == "ascii":
        _note(defects, f"{what}: 8-bit bytes in text declared {declared!r}; guessed")
    elif codec:
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError, ValueError, TypeError):
            _note(defects, f"{what}: bytes not valid in the declared charset {declared!r}")
    elif declared.lower() not in _UNKNOWN:
        _note(defects, f"{what}: unknown charset {declared!r}, decoded as UTF-8 or Latin-1")
    elif declared:
        _note(defects, f"{what}: charset {declared!r} says nothing; guessed")
    else:
        _note(defects, f"{what}: 8-bit text without a charset; guessed")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec and codec not in ("utf-8", "cp1252", "ascii"):
        # A multi-byte charset with a few bad bytes reads better as itself with holes than as mojibake.
        try:
            text = data.decode(codec, errors="replace")
            if text.count("\ufffd") * 20 < len(text):
                return text
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _note(defects: list[str] | None, defect: str) -> None:
    if defects is not None and defect not in defects:
        defects.append(defect)


def raw_header_text(value: str, defects: list[str] | None = None, name: str = "header") -> str:
    """A header value as the compat32 parser holds it (folded, 8-bit bytes as surrogates) unfolded and
    with raw 8-bit bytes decoded (UTF-8 first, as RFC 6532 allows). RFC 2047 words are left encoded."""
    if "\n" in value or "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n ", " ").replace("\n\t", "\t")
        value = value.replace("\n", " ")
    if not value.isascii():
        try:
            data = value.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            return value  # already text (a str passed in by a caller, not from the parser)
        value = decode_bytes(data, None, None)
        if "\x00" in value:
            value = value.replace("\x00", "")
        _note(defects, f"{name}: raw 8-bit bytes in the header")
    return value.replace("\x00", "")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            payload = re.sub(r"[^A-Za-z0-9+/]", "", payload)
            if len(payload) % 4 == 1:  # one stray character carries no whole byte: drop it
                payload = payload[:-1]
            return base64.b64decode(payload + "=" * (-len(payload) % 4))
        return binascii.a2b_qp(payload.encode("ascii", "surrogateescape"), header=True)
    except (binascii.Error, ValueError, UnicodeError):
        return None


def decode_words(value: str, defects: list[str] | None = None, name: str = "header") -> str:
    """``value`` with its RFC 2047 encoded words decoded. Whitespace between two encoded words is
    dropped (RFC 2047 section 6.2), and the bytes of neighbouring words in the same charset are joined
    before decoding, since clients split multi-byte characters across words."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()  # grows in place: one header can hold thousands of words
    pending_charset: str | None = None
    position = 0

    def flush():
        nonlocal pending, pending_charset
        if pending_charset is not None:
            out.append(decode_bytes(bytes(pending), pending_charset, defects, name))
        pending, pending_charset = bytearray(), None

    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        position = match.end()
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*en?Q?...?=
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            _note(defects, f"{name}: an encoded word could not be decoded and is kept as written")
            flush()
            out.append(gap + match.group(0))
            continue
        if pending_charset is not None and not gap.strip(" \t\r\n"):
            if charset.lower() == pending_charset.lower():
                pending += data
                continue
            flush()
        else:
            flush()
            out.append(gap)
        pending, pending_charset = bytearray(data), charset
    flush()
    out.append(value[position:])
    return "".join(out)


_SPACE = re.compile(r"\s+")


def header_text(value: str, defects: list[str] | None = None, name: str = "header") -> str:
    """A header value for reading: unfolded, 8-bit and RFC 2047 decoded, whitespace collapsed."""
    text = decode_words(raw_header_text(value, defects, name), defects, name)
    return _SPACE.sub(" ", text).strip()


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str) -> list[str]:
    """Every ``<id>`` in a Message-ID, In-Reply-To or References value, in order, without repeats."""
    found: list[str] = []
    for mid in _MESSAGE_ID.findall(value):
        if mid not in found:
            found.append(mid)
    if not found:
        bare = value.strip()
        if bare and not _SPACE.search(bare) and "@" in bare:
            found.append(f"<{bare.strip('<>')}>")
    return found


_ATOMS = r"[^<>\s\",;:()\[\]\\@]+"
# One address, alone: "Name" <a@b>, Name <a@b> or a@b; anything else goes through getaddresses.
_ONE_ADDRESS = re.compile(
    rf'(?:\s*"([^"\\]*)"\s*|([^",<>:;@()\[\]\\]*))<({_ATOMS}@{_ATOMS})>\s*\Z|\s*({_ATOMS}@{_ATOMS})\s*\Z'
)  # No two neighbouring pieces can match the same characters, so a long header cannot make it backtrack.
MAX_ADDRESS_HEADER = 64 * 1024
_NOT_IN_ADDRESS = re.compile(r"[\s<>,;:\"()\[\]]+")


def _address_like(text: str) -> list[str]:
    """Every run of text between separators that holds an @, in order. Splitting first keeps this
    linear: a findall for "x@y" backtracks over every start of a long run without an @."""
    return [token for token in _NOT_IN_ADDRESS.split(text) if "@" in token]


def normalize_address(address: str) -> str:
    """``address`` as contact_center/lib/identity.py normalises email identities, or "" if it is not one."""
    address = address.strip().strip("<>").strip()
    if not address or "@" not in address:
        return ""
    try:
        return normalize_identity("email", address)
    except ValidationError:
        return ""


def addresses(values: list[str], defects: list[str] | None = None, name: str = "address") -> list[tuple[str, str]]:
    """(display name, normalised address) for every address in ``values`` (several headers of one name
    read as one list). Unparseable entries are dropped with a defect; none of this raises."""
    if not values:
        return []
    text = ", ".join(raw_header_text(value, defects, name) for value in values)
    if len(text) > MAX_ADDRESS_HEADER:
        # A thousand recipients fit; the stdlib's address parser takes seconds over a megabyte of junk.
        _note(defects, f"{name}: {len(text)} characters of addresses; only the first {MAX_ADDRESS_HEADER} are read")
        text = text[:MAX_ADDRESS_HEADER]
    result: list[tuple[str, str]] = []
    simple = _ONE_ADDRESS.match(text)
    if simple and (normal := normalize_address(simple.group(3) or simple.group(4))):
        # Most headers hold one plain address: the stdlib's address parser is a third of parsing's time.
        display = simple.group(1) if simple.group(1) is not None else (simple.group(2) or "")
        return [(_SPACE.sub(" ", decode_words(display, defects, name)).strip(), normal)]
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - the stdlib's address parser has raised on odd input across releases
        pairs = []
    for display, address in pairs:
        normal = normalize_address(address)
        if not normal:
            # An unbalanced quote makes getaddresses swallow the rest of the header into one "address".
            for candidate in _address_like(address):
                normal = normalize_address(candidate)
                if normal and normal not in (found for _, found in result):
                    result.append(("", normal))
            if address.strip() and not normal:
                _note(defects, f"{name}: {address.strip()[:80]!r} is not an address; dropped")
            continue
        display = _SPACE.sub(" ", decode_words(display, defects, name)).strip()
        if normal not in (found for _, found in result):
            result.append((display, normal))
    if not result and text.strip() and not pairs:
        for candidate in _address_like(text):
            normal = normalize_address(candidate)
            if normal:
                result.append(("", normal))
    return result
