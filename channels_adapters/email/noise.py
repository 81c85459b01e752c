"""Recognising mail no person wrote: auto-replies, bounces and list mail (issue 13 point 8).

Such mail must never trigger automatic mail of Parley's own (an acknowledgement answering an
out-of-office reply is how two robots start a loop), and a bounce names the outbound message it
returns so that message can be marked failed.
"""

from __future__ import annotations

import re

AUTO_REPLY = "auto-reply"
BOUNCE = "bounce"
LIST = "list"

# Subjects Outlook and Exchange give their out-of-office replies, which otherwise carry only
# X-Auto-Response-Suppress (a header Outlook puts on plenty of mail people wrote too).
_AUTOMATIC_SUBJECT = re.compile(
    r"^(automatic reply|auto(matic)?[- ]?reply|out of (the )?office|autosvar|automatische antwort|"
    r"réponse automatique|respuesta automática|risposta automatica)\b",
    re.IGNORECASE,
)
_ROBOT_SENDERS = ("mailer-daemon", "postmaster")


def classify(headers: dict[str, list[str]], subject: str, from_address: str, report_type: str = "") -> str | None:
    """``"bounce"``, ``"auto-reply"``, ``"list"`` or None for a person's mail. ``headers`` maps lower-cased
    names to their unfolded values; ``report_type`` is the report-type of a multipart/report, if any."""
    local = from_address.partition("@")[0]
    raw_from = " ".join(headers.get("from", ())).lower()
    if report_type == "disposition-notification":
        return AUTO_REPLY  # a read receipt: sent by software, answering it would loop like an auto-reply
    if (
        report_type == "delivery-status"
        or local in _ROBOT_SENDERS
        or any(f"{robot}@" in raw_from for robot in _ROBOT_SENDERS)
    ):
        return BOUNCE
    if not from_address and "mailer-daemon" in raw_from:
        return BOUNCE
    submitted = _first(headers, "auto-submitted").lower()
    if submitted and submitted.split(";", 1)[0].strip() != "no":
        return AUTO_REPLY
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return AUTO_REPLY
    if "x-auto-response-suppress" in headers and _AUTOMATIC_SUBJECT.match(subject):
        return AUTO_REPLY
    precedence = _first(headers, "precedence").lower()
    if "list-id" in headers or "list-unsubscribe" in headers or precedence == "list":
        return LIST
    # Without list headers, bulk and junk are what vacation programs and responders have long set.
    if precedence in ("auto_reply", "bulk", "junk"):
        return AUTO_REPLY
    return None


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0].strip() if values else ""
