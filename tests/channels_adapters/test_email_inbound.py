"""Mail into the timeline (issue 13): stored raw first, parsed, placed in the sender's conversation, or
quarantined with its reason; the same mail delivered twice is one entry; replies thread by their headers,
and only into the sender's own conversations. Mail comes from tests/fixtures/mail/."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from channels_adapters.email.inbound import receive_email
from channels_adapters.email.parse import parse
from channels_adapters.email.transport import message_id
from contact_center.actions.outbox import claim_due_deliveries, do_mark_sent
from contact_center.actions.replies import do_send_reply
from contact_center.models import Conversation, Customer, Delivery, Inbox, RawInbound, TimelineEntry

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
ROOT = Path(__file__).resolve().parents[2]
SUPPORT = "support@shop.example"


def mail(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture
def support(db, alice):
    inbox = Inbox.objects.create(name="Shop Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    inbox.members.add(alice)
    return inbox


def entry_of(row: RawInbound) -> TimelineEntry:
    assert row.state == RawInbound.State.STORED, row.error
    return row.entry


def test_a_new_mail_opens_a_conversation_with_the_sender_as_customer_and_its_raw_bytes_kept(support):
    raw = mail("thread-01-vera-gmail-question.eml")

    row = receive_email(raw, SUPPORT)

    entry = entry_of(row)
    conversation = entry.conversation
    assert conversation.inbox == support
    assert conversation.customer.identities.get().value == "vera@home.example"
    assert str(conversation.customer) == "Vera Lind"
    assert conversation.subject == entry.payload["subject"] != ""
    assert entry.external_id == "<CAHx7qL2f9Vn3kQe8mZ1pT0wRj4sYb6u-ADx9cE=k2n@mail.gmail.com>"
    assert bytes(row.raw) == raw and row.sha256 == hashlib.sha256(raw).hexdigest()


def test_replies_thread_into_the_senders_conversation_by_their_headers(support):
    first = entry_of(receive_email(mail("thread-01-vera-gmail-question.eml"), SUPPORT))

    followup = entry_of(receive_email(mail("thread-03-vera-followup-cc.eml"), SUPPORT))
    thanks = entry_of(receive_email(mail("thread-06-vera-thanks-iphone.eml"), SUPPORT))

    assert followup.conversation_id == thanks.conversation_id == first.conversation_id
    assert followup.payload["threaded"].startswith("reply to their email of ")
    assert Conversation.objects.count() == 1


def test_a_forged_reply_from_another_sender_opens_a_conversation_of_its_own(support):
    veras = entry_of(receive_email(mail("thread-01-vera-gmail-question.eml"), SUPPORT))

    forged = entry_of(receive_email(mail("thread-07-forged-reply-other-sender.eml"), SUPPORT))

    assert forged.conversation_id != veras.conversation_id
    assert forged.conversation.customer.identities.get().value == "mallory@elsewhere.example"
    assert veras.conversation.entries.count() == 1


def test_a_reply_to_our_own_email_threads_by_the_message_id_we_gave_it(support, alice):
    first = entry_of(receive_email(mail("thread-01-vera-gmail-question.eml"), SUPPORT))
    ours = do_send_reply(alice, first.conversation_id, "We'll send a new one today.")
    key = Delivery.objects.get(entry=ours).idempotency_key
    reply = (
        "From: Vera Lind <vera@home.example>\r\nTo: support@shop.example\r\n"
        "Subject: Re: your order\r\nMessage-ID: <answer-1@home.example>\r\n"
        f"In-Reply-To: <parley.{key}@shop.example>\r\n"
        "\r\nThank you!\r\n"
    ).encode()

    entry = entry_of(receive_email(reply, SUPPORT))

    assert entry.conversation_id == first.conversation_id
    assert entry.payload["threaded"].startswith("reply to our email of ")


def test_the_same_mail_delivered_twice_is_one_entry(support):
    raw = mail("thread-01-vera-gmail-question.eml")

    first, again = receive_email(raw, SUPPORT), receive_email(raw, SUPPORT)
    # The same Message-ID with other bytes (another path added a header): still one entry.
    other_path = receive_email(b"X-Delivered-By: imap\r\n" + raw, SUPPORT)

    assert first.entry_id == again.entry_id == other_path.entry_id
    assert TimelineEntry.objects.filter(kind="message").count() == 1
    assert RawInbound.objects.filter(sha256=hashlib.sha256(raw).hexdigest()).count() == 1


@pytest.mark.parametrize(
    ("raw", "recipient", "reason"),
    [
        (mail("thread-01-vera-gmail-question.eml"), "sales@shop.example", "no email inbox has the address"),
        (b"To: support@shop.example\r\nSubject: who am I\r\n\r\nno From at all\r\n", SUPPORT, "names no sender"),
        (b"\x00\xff\xfe garbage \r\n\r\n\x00", SUPPORT, "names no sender"),
    ],
    ids=["unknown recipient", "no sender", "not mail at all"],
)
def test_what_cannot_be_placed_is_quarantined_with_its_reason_and_kept(support, raw, recipient, reason):
    row = receive_email(raw, recipient)

    assert row.state == RawInbound.State.QUARANTINED
    assert reason in row.error
    assert bytes(row.raw) == raw
    assert not TimelineEntry.objects.exists()
    # Delivered again, it is the same quarantined mail, not a second one.
    assert receive_email(raw, recipient).pk == row.pk


def test_an_auto_reply_is_stored_and_marked_so_nothing_answers_it(support):
    name = next(n for n in sorted(os.listdir(CORPUS)) if n.startswith("auto-") and n.endswith(".eml"))

    entry = entry_of(receive_email(mail(name), SUPPORT))

    assert entry.payload["auto"] == "auto-reply"


def pipe(recipient: str | None, raw: bytes, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PARLEY_VAR_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    args = [sys.executable, "manage.py", "ingest_email"] + (["--to", recipient] if recipient else [])
    return subprocess.run(args, input=raw, cwd=ROOT, env=env, capture_output=True)


@pytest.mark.django_db(transaction=True)
def test_the_pipe_command_exits_as_an_mta_expects(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PARLEY_VAR_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    setup = (
        "from contact_center.models import Inbox; "
        f"Inbox.objects.create(name='Support', kind='email', address='{SUPPORT}')"
    )
    for command in (["migrate", "-v0"], ["shell", "-c", setup]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)

    stored = pipe(SUPPORT, mail("thread-01-vera-gmail-question.eml"), tmp_path)
    quarantined = pipe("nobody@shop.example", mail("thread-01-vera-gmail-question.eml"), tmp_path)
    usage = pipe(None, b"", tmp_path)

    assert (stored.returncode, quarantined.returncode, usage.returncode) == (0, 0, 64)
    assert b"stored as entry" in stored.stdout
    assert b"quarantined" in quarantined.stderr


# Bounces (issue 13 point 8): a bounce of our own email fails that email, and opens nothing.


def our_reply(alice) -> tuple[TimelineEntry, str]:
    """Alice's answer to Vera's mail, and the Message-ID the email transport gives it."""
    first = entry_of(receive_email(mail("thread-01-vera-gmail-question.eml"), SUPPORT))
    reply = do_send_reply(alice, first.conversation_id, "A new lid is on its way.")
    return reply, message_id(str(Delivery.objects.get(entry=reply).idempotency_key), SUPPORT)


def sent(reply: TimelineEntry, our_id: str) -> None:
    """What an outbox worker records once the SMTP server took the email."""
    [delivery_id] = claim_due_deliveries("test-worker")
    assert delivery_id == reply.delivery.pk
    assert do_mark_sent(delivery_id, "test-worker", our_id)


def bounce_of(fixture: str, our_id: str) -> bytes:
    """A DSN from the corpus, returned for our email: the id it names is ours."""
    corpus_id = parse(mail(fixture)).bounce_of
    assert corpus_id, f"{fixture} names no returned Message-ID"
    return mail(fixture).replace(corpus_id.encode(), our_id.encode())


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("bounce-postfix-dsn.eml", "bounced: 550 5.1.1 <vera@home-old.example>: Recipient address rejected"),
        ("bounce-exchange-ndr.eml", "bounced: 550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
        ("bounce-gmail-dsn.eml", "bounced: 550-5.1.1 The email account that you tried to reach does not exist."),
        # An old MTA's plain-text bounce: the message it returns is found, no reason the parser can read.
        ("bounce-mailer-daemon-plain.eml", "bounced (no reason given)"),
    ],
)
def test_a_bounce_of_our_reply_marks_it_failed_with_the_reason_and_opens_nothing(
    support, alice, published, django_capture_on_commit_callbacks, fixture, reason
):
    reply, our_id = our_reply(alice)
    sent(reply, our_id)
    customers, conversations = Customer.objects.count(), Conversation.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        row = receive_email(bounce_of(fixture, our_id), SUPPORT)

    reply.refresh_from_db()
    assert reply.delivery_status == TimelineEntry.DeliveryStatus.FAILED
    assert reply.delivery.last_error.startswith(reason)
    # The consoles see it fail live.
    [(event, _groups)] = [(e, g) for e, g in published if e["type"] == "entry.updated"]
    assert (event["entry"]["id"], event["entry"]["delivery_status"]) == (reply.pk, "failed")
    # Kept raw, with no entry, customer or conversation of its own (no MAILER-DAEMON "customer").
    assert (row.state, row.entry, row.error) == (RawInbound.State.STORED, None, "")
    assert (row.fields["bounce_of"], row.fields["delivery"]) == (our_id, reply.delivery.pk)
    assert (Customer.objects.count(), Conversation.objects.count()) == (customers, conversations)
    assert reply.conversation.entries.count() == 2
    # The same bounce again is the same row, and fails nothing twice.
    assert receive_email(bounce_of(fixture, our_id), SUPPORT).pk == row.pk


def test_a_bounce_quicker_than_the_worker_is_applied_when_the_send_is_recorded(support, alice):
    reply, our_id = our_reply(alice)
    [delivery_id] = claim_due_deliveries("test-worker")  # sending: the SMTP server took it, not recorded yet

    receive_email(bounce_of("bounce-postfix-dsn.eml", our_id), SUPPORT)
    reply.refresh_from_db()
    assert reply.delivery_status == TimelineEntry.DeliveryStatus.QUEUED

    do_mark_sent(delivery_id, "test-worker", our_id)
    reply.refresh_from_db()
    assert reply.delivery_status == TimelineEntry.DeliveryStatus.FAILED
    assert "5.1.1" in reply.delivery.last_error


def test_a_bounce_to_an_address_of_no_inbox_still_fails_our_reply(support, alice):
    # Bounces go to the envelope sender, PARLEY_MAIL_FROM, which need not be an inbox's address.
    reply, our_id = our_reply(alice)
    sent(reply, our_id)

    row = receive_email(bounce_of("bounce-exchange-ndr.eml", our_id), "bounces@shop.example")

    reply.refresh_from_db()
    assert (row.state, reply.delivery_status) == (RawInbound.State.STORED, TimelineEntry.DeliveryStatus.FAILED)


def test_a_bounce_of_mail_that_is_not_ours_is_kept_as_an_automatic_entry(support, alice):
    reply, our_id = our_reply(alice)
    sent(reply, our_id)

    # The corpus's DSN as it is: it names an id no delivery of ours has.
    entry = entry_of(receive_email(mail("bounce-postfix-dsn.eml"), SUPPORT))

    reply.refresh_from_db()
    assert entry.payload["auto"] == "bounce"
    assert reply.delivery_status == TimelineEntry.DeliveryStatus.SENT


def test_a_reply_that_merely_quotes_our_message_id_fails_nothing(support, alice):
    # Only a bounce fails an email: the customer's own reply names our id in In-Reply-To too.
    reply, our_id = our_reply(alice)
    sent(reply, our_id)
    answer = (
        "From: Vera Lind <vera@home.example>\r\nTo: support@shop.example\r\nSubject: Re: your order\r\n"
        f"Message-ID: <answer-2@home.example>\r\nIn-Reply-To: {our_id}\r\n\r\nMessage-ID: {our_id}\r\n"
    ).encode()

    entry = entry_of(receive_email(answer, SUPPORT))

    reply.refresh_from_db()
    assert entry.conversation_id == reply.conversation_id
    assert reply.delivery_status == TimelineEntry.DeliveryStatus.SENT
