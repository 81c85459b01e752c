"""The SMTP/LMTP listener (issue 13, "three ways in"): a real aiosmtpd listener on a loopback port, on an
event loop of its own in a thread, and Python's smtplib as the sender. Mail to an email inbox lands as
an entry; unknown recipients are refused at RCPT; oversized mail, too many connections and too many
messages from one address are refused; a database failure answers 451 so the sender retries. The last
test runs `manage.py serve` with the mail role beside web and worker. Mail comes from
tests/fixtures/mail/."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError
from django.test import override_settings

from channels_adapters.email import listener as listener_module
from channels_adapters.email.listener import ListenerError, MailListener
from contact_center.models import Inbox, RawInbound
from tests.support.live import ROOT, LiveStack, free_port, wait_for_port

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
SUPPORT = "support@shop.example"
VERA = "vera@home.example"


def mail(name: str = "thread-01-vera-gmail-question.eml") -> bytes:
    # As it travels over SMTP: CRLF line endings (smtplib sends bytes as they are).
    return (CORPUS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
def support(db, alice):
    inbox = Inbox.objects.create(name="Shop Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    inbox.members.add(alice)
    return inbox


def sender(port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port, timeout=10)


def limits(**changes) -> dict:
    return {**settings.PARLEY_MAIL_LISTENER, **changes}


@contextmanager
def listening(*, lmtp: bool = False, **config):
    """A listener on a free loopback port, serving on an event loop in a thread of its own."""
    with override_settings(PARLEY_MAIL_LISTENER=limits(**config)):
        listener = MailListener("127.0.0.1", 0, lmtp=lmtp)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listener.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield listener.socket.getsockname()[1]
    finally:

        async def stop():
            listener.close()
            await listener.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def port(support):
    with listening() as port:
        yield port


def test_it_stores_a_mail_sent_to_an_email_inbox_as_an_entry_on_the_senders_timeline(port, support):
    raw = mail()
    with sender(port) as client:
        refused = client.sendmail(VERA, [SUPPORT], raw)

    assert refused == {}
    row = RawInbound.objects.get()
    assert row.state == RawInbound.State.STORED, row.error
    assert bytes(row.raw) == raw
    assert row.fields == {"recipient": SUPPORT, "via": "smtp"}
    assert row.entry.inbox == support
    assert row.entry.conversation.customer.identities.get().value == VERA


def test_it_refuses_an_unknown_recipient_at_rcpt_time_and_stores_nothing(port):
    with sender(port) as client:
        client.ehlo()
        client.mail(VERA)
        code, reply = client.rcpt("nobody@shop.example")
        assert (code, reply.split()[0]) == (550, b"5.1.1")
        # Nor does the DATA of a transaction without a recipient store anything.
        with pytest.raises(smtplib.SMTPDataError) as data:
            client.data(mail())
        assert data.value.smtp_code == 503

    with sender(port) as client, pytest.raises(smtplib.SMTPRecipientsRefused):
        client.sendmail(VERA, ["nobody@shop.example"], mail())
    assert not RawInbound.objects.exists()


def test_it_delivers_to_the_inbox_recipients_of_a_mail_and_refuses_the_others(port):
    with sender(port) as client:
        refused = client.sendmail(VERA, ["nobody@shop.example", SUPPORT.upper()], mail())

    assert set(refused) == {"nobody@shop.example"}
    assert RawInbound.objects.get().fields["recipient"] == SUPPORT.upper()


def test_it_delivers_once_to_an_address_named_twice(port):
    with sender(port) as client:
        assert client.sendmail(VERA, [SUPPORT, SUPPORT.upper()], mail()) == {}

    assert RawInbound.objects.count() == 1


def test_it_announces_its_size_limit_and_refuses_a_larger_mail(support):
    raw = mail()
    with listening(max_bytes=len(raw) - 1) as port:
        with sender(port) as client:
            client.ehlo()
            assert client.esmtp_features["size"] == str(len(raw) - 1)
            # smtplib declares the size at MAIL, as the SIZE extension asks: refused before any data.
            with pytest.raises(smtplib.SMTPSenderRefused) as declared:
                client.sendmail(VERA, [SUPPORT], raw)
            assert declared.value.smtp_code == 552
        with sender(port) as client:
            # A sender that does not declare it is refused once the data goes over.
            client.ehlo()
            client.mail(VERA)
            client.rcpt(SUPPORT)
            assert client.data(raw)[0] == 552

    assert not RawInbound.objects.exists()


def test_it_refuses_connections_over_the_limit_per_address_with_421(support):
    with listening(max_connections_per_ip=2) as port:
        first, second = sender(port), sender(port)
        with pytest.raises(smtplib.SMTPConnectError) as third:
            sender(port)
        assert third.value.smtp_code == 421

        first.quit()
        # A connection closed makes room for the next.
        with sender(port) as again:
            assert again.sendmail(VERA, [SUPPORT], mail()) == {}
        second.quit()

    assert RawInbound.objects.get().state == RawInbound.State.STORED


def test_it_defers_messages_over_the_rate_per_address_with_451(support):
    with listening(messages_per_ip=(2, 60)) as port, sender(port) as client:
        client.sendmail(VERA, [SUPPORT], mail("thread-01-vera-gmail-question.eml"))
        client.sendmail(VERA, [SUPPORT], mail("thread-03-vera-followup-cc.eml"))
        with pytest.raises(smtplib.SMTPSenderRefused) as third:
            client.sendmail(VERA, [SUPPORT], mail("thread-06-vera-thanks-iphone.eml"))

    assert third.value.smtp_code == 451
    assert RawInbound.objects.count() == 2


def test_it_answers_451_when_the_database_fails_so_the_sender_retries_and_the_retry_is_stored_once(port, monkeypatch):
    def database_down(raw, recipient, *, via):
        raise DatabaseError("the database is down")

    monkeypatch.setattr(listener_module, "receive_email", database_down)
    with sender(port) as client, pytest.raises(smtplib.SMTPDataError) as failed:
        client.sendmail(VERA, [SUPPORT], mail())
    assert (failed.value.smtp_code, failed.value.smtp_error.split()[0]) == (451, b"4.3.0")
    assert not RawInbound.objects.exists()

    monkeypatch.undo()
    with sender(port) as client:
        client.sendmail(VERA, [SUPPORT], mail())
        client.sendmail(VERA, [SUPPORT], mail())  # the sender's second retry, after all
    assert RawInbound.objects.get().state == RawInbound.State.STORED


def test_it_keeps_a_mail_with_lines_longer_than_rfc_5321_allows(port):
    # One-line HTML from a careless sender: refused with 500 by aiosmtpd's default, so bounced.
    raw = mail().replace(b"<div>Vera</div>", b"<div>Vera</div>" + b"<b>!</b>" * 400)

    with sender(port) as client:
        assert client.sendmail(VERA, [SUPPORT], raw) == {}

    row = RawInbound.objects.get()
    assert bytes(row.raw) == raw and row.state == RawInbound.State.STORED


def test_it_keeps_a_mail_it_cannot_place_in_quarantine_and_answers_250(port):
    with sender(port) as client:
        assert client.sendmail(VERA, [SUPPORT], b"Subject: no sender\r\n\r\nwho am I?\r\n") == {}

    row = RawInbound.objects.get()
    assert row.state == RawInbound.State.QUARANTINED
    assert "sender" in row.error


def test_in_lmtp_mode_it_answers_after_data_once_per_recipient(support):
    Inbox.objects.create(name="Billing", kind=Inbox.Kind.EMAIL, address="billing@shop.example")
    raw = mail()
    with listening(lmtp=True) as port, socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        replies = conn.makefile("rb")
        assert replies.readline().startswith(b"220 ")
        conn.sendall(b"LHLO client.example\r\n")
        while not replies.readline().startswith(b"250 "):
            pass
        conn.sendall(b"MAIL FROM:<vera@home.example>\r\nRCPT TO:<support@shop.example>\r\n")
        conn.sendall(b"RCPT TO:<billing@shop.example>\r\nDATA\r\n")
        assert [replies.readline()[:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
        conn.sendall(raw + b".\r\n")
        assert [replies.readline()[:3] for _ in range(2)] == [b"250", b"250"]
        conn.sendall(b"QUIT\r\n")

    rows = RawInbound.objects.order_by("pk")
    assert [(r.fields["recipient"], r.fields["via"], r.state) for r in rows] == [
        ("support@shop.example", "lmtp", RawInbound.State.STORED),
        ("billing@shop.example", "lmtp", RawInbound.State.STORED),
    ]


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_it_offers_starttls_only_with_a_certificate(support, certificate):
    cert, key = certificate
    with listening() as port, sender(port) as client:
        client.ehlo()
        assert not client.has_extn("starttls")

    with listening(tls_cert=cert, tls_key=key) as port, sender(port) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        trusting = ssl.create_default_context(cafile=cert)
        trusting.check_hostname = False
        client.starttls(context=trusting)
        assert client.sendmail(VERA, [SUPPORT], mail()) == {}

    assert RawInbound.objects.get().state == RawInbound.State.STORED


def test_it_says_why_it_cannot_start(certificate, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ListenerError, match="cannot listen on 127.0.0.1"):
            MailListener("127.0.0.1", taken.getsockname()[1])

    with (
        override_settings(PARLEY_MAIL_LISTENER=limits(tls_cert=str(tmp_path / "missing.pem"), tls_key="k.pem")),
        pytest.raises(ListenerError, match="PARLEY_MAIL_TLS_CERT"),
    ):
        MailListener("127.0.0.1", 0)


def test_serve_runs_the_mail_role_beside_web_and_worker_on_one_event_loop(tmp_path):
    stack = LiveStack(tmp_path)
    try:
        stack.shell(
            "from contact_center.models import Inbox; "
            f"Inbox.objects.create(name='Support', kind=Inbox.Kind.EMAIL, address='{SUPPORT}')"
        )
        web_port, mail_port = free_port(), free_port()
        log = tmp_path / "serve.log"
        out = log.open("w")  # noqa: SIM115  (closed by stack.stop(), as LiveStack.start's are)
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", "--roles", "web,worker,mail", "--port",
             str(web_port), "--mail-port", str(mail_port), "--demo-banner"],
            cwd=ROOT, env=stack.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proc.log_file = out
        stack.processes.append(proc)
        wait_for_port(mail_port, proc=proc)
        wait_for_port(web_port, proc=proc)
        # The port is bound before anything serves: an accepted connection proves nothing until it
        # is greeted, hence the timeout.
        with smtplib.SMTP("127.0.0.1", mail_port, timeout=10) as client:
            assert client.sendmail(VERA, [SUPPORT], mail()) == {}

        stored = stack.shell(
            "from contact_center.models import RawInbound as R; "
            "print(*R.objects.values_list('state', 'entry__inbox__address'))"
        )
        assert stored.strip() == f"('stored', '{SUPPORT}')"
        # The banner is printed half a second after the web port opens.
        deadline = time.monotonic() + 10
        while "Mail:" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"Mail:                            smtp://127.0.0.1:{mail_port} (send to {SUPPORT})" in log.read_text()
        assert f"mail for {SUPPORT} (" in log.read_text()
    finally:
        stack.stop()
