"""Signed, expiring links to attachments: the only way a file leaves Parley.

Uploaded files are private. Message payloads (for visitors and for agents) carry a link signed with
``SECRET_KEY`` that names one attachment and stops working ``PARLEY_ATTACHMENT_URL_MAX_AGE`` seconds
after it was issued; every replay issues fresh ones. Whoever holds a link can fetch that one file
until it expires, as whoever holds a visitor token can read the conversation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.core import signing

if TYPE_CHECKING:
    from contact_center.models import Attachment

_SALT = "parley.attachment"


def attachment_url(attachment: Attachment) -> str:
    """An absolute URL (on ``PUBLIC_BASE_URL``) that serves ``attachment`` until the link expires."""
    token = signing.dumps(attachment.pk, salt=_SALT)
    # The trailing file name is for the browser's "save as"; the view ignores it.
    return f"{settings.PUBLIC_BASE_URL}/files/{token}/{quote(attachment.filename, safe='')}"


def check_attachment_token(token: str) -> int:
    """The attachment id ``token`` names; raises ``signing.BadSignature`` (``SignatureExpired`` when old)."""
    value = signing.loads(token, salt=_SALT, max_age=settings.PARLEY_ATTACHMENT_URL_MAX_AGE)
    if not isinstance(value, int):
        raise signing.BadSignature("malformed attachment token")
    return value
