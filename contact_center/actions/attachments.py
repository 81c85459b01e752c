"""Files customers send: stored first (unbound), then bound to the message that carries them.

The widget uploads a file (``do_store_upload``), gets its id, and sends a message naming it; the inbound
path binds it (``claim_attachments``, then ``append_entry``). An upload is bound at most once, only
to a message of the inbox it was uploaded to, by the sender who uploaded it.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files import File

from contact_center.lib.filetypes import HEAD_BYTES, sniff_content_type
from contact_center.models import Attachment, Inbox

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain")
MAX_PER_MESSAGE = 10


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    types: frozenset[str]

    def public(self) -> dict:
        return {"max_bytes": self.max_bytes, "types": sorted(self.types)}


class UploadRefused(ValidationError):
    """A file Parley will not store. ``status`` is the HTTP answer: 413 too big, 415 a refused type, 400."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def upload_limits(inbox: Inbox) -> UploadLimits:
    """The inbox's ``config["attachments"]``: ``{"max_bytes": int, "types": [content types]}``."""
    config = (inbox.config or {}).get("attachments") or {}
    max_bytes = config.get("max_bytes", DEFAULT_MAX_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        max_bytes = DEFAULT_MAX_BYTES
    types = config.get("types", DEFAULT_TYPES)
    if not isinstance(types, list | tuple) or not all(isinstance(t, str) for t in types):
        types = DEFAULT_TYPES
    return UploadLimits(max_bytes=max_bytes, types=frozenset(t.lower() for t in types))


def do_store_upload(inbox: Inbox, uploaded_by: str, stream: IO[bytes], filename: str, declared_type: str) -> Attachment:
    """Store ``stream`` as an unbound attachment of ``inbox``; returns it.

    The content type comes from the bytes (``sniff_content_type``), not from ``declared_type``. Raises
    ``UploadRefused`` for an empty file, one over the inbox's ``max_bytes`` (413) or of a type the inbox
    does not accept (415). The file lands in storage under a random name; the visitor's name for it is
    kept in ``filename`` only.
    """
    limits = upload_limits(inbox)
    head = stream.read(HEAD_BYTES)
    content_type = sniff_content_type(head, declared_type)
    if content_type not in limits.types:
        raise UploadRefused(f"files of this type ({content_type}) cannot be sent here", status=415)
    digest = hashlib.sha256(head)
    size = len(head)
    chunk = head
    while chunk:
        if size > limits.max_bytes:
            raise UploadRefused(_too_big(limits.max_bytes), status=413)
        chunk = stream.read(64 * 1024)
        digest.update(chunk)
        size += len(chunk)
    if size == 0:
        raise UploadRefused("the file is empty", status=400)
    stream.seek(0)
    attachment = Attachment(
        inbox=inbox,
        uploaded_by=uploaded_by,
        filename=clean_filename(filename),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )
    # A random name: nothing about the stored file is chosen by the visitor.
    attachment.file.save(secrets.token_urlsafe(18), File(stream), save=False)
    attachment.save()
    return attachment


def check_upload_size(inbox: Inbox, declared_bytes: int) -> None:
    """Refuse early, before reading the body, a request that announces more than the inbox accepts."""
    limit = upload_limits(inbox).max_bytes
    if declared_bytes > limit:
        raise UploadRefused(_too_big(limit), status=413)


def check_attachment_ids(value) -> tuple[int, ...]:
    """The attachment ids of a message frame: a list of up to ``MAX_PER_MESSAGE`` integers (or absent)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValidationError("attachments is a list of attachment ids")
    if len(value) > MAX_PER_MESSAGE:
        raise ValidationError(f"a message carries at most {MAX_PER_MESSAGE} attachments")
    return tuple(dict.fromkeys(value))


def claim_attachments(inbox_id: int, uploaded_by: str, attachment_ids: Iterable[int]) -> list[int]:
    """Lock the unbound uploads ``uploaded_by`` made to the inbox among ``attachment_ids``; call inside the
    transaction that binds them. Raises ``ValidationError`` when any of them is not such an upload
    (someone else's, another inbox's, already sent, or unknown): nothing is bound then.
    """
    wanted = list(attachment_ids)
    if not wanted:
        return []
    found = list(
        Attachment.objects.select_for_update()
        .filter(pk__in=wanted, inbox_id=inbox_id, uploaded_by=uploaded_by, entry__isnull=True)
        .values_list("pk", flat=True)
    )
    if len(found) != len(wanted):
        raise ValidationError("an attachment of this message is not available: upload it again")
    return wanted


def clean_filename(name: str) -> str:
    """The last path component of ``name`` without control characters, at most 255 characters."""
    name = PureWindowsPath(PurePosixPath(name or "").name).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 20 else name[:255]
    return name or "file"


def _too_big(limit: int) -> str:
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit >= size:
            return f"this file is too big: files are at most {limit / size:.3g} {unit} here"
    return f"this file is too big: files are at most {limit} bytes here"
