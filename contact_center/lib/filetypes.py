"""What an uploaded file is, judged from its bytes: the client's Content-Type is only a hint.

Only the raster image types below are ever shown inline; they are recognised by their signature, so a
file that claims to be an image but is not (an SVG, HTML renamed .png) is never treated as one.
"""

from __future__ import annotations

import codecs

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Enough for every signature below, and for a fair guess that a file is text.
HEAD_BYTES = 4096

_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]


def sniff_content_type(head: bytes, declared: str) -> str:
    """The content type of a file starting with ``head`` (its first ``HEAD_BYTES``), given the client's
    ``declared`` type. Signatures win; UTF-8 without NUL bytes is text/plain unless the client named
    another text type; otherwise the declared type, except that an image or PDF without its signature
    is ``application/octet-stream``.
    """
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    declared = (declared or "").split(";")[0].strip().lower()
    if declared.startswith("image/") or declared == "application/pdf":
        return "application/octet-stream"
    if _looks_like_text(head):
        return declared if declared.startswith("text/") else "text/plain"
    return declared or "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        # Not final: the head may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
