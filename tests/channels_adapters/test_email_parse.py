"""The email parser (channels_adapters/email/parse.py): raw bytes to a ``ParsedEmail``, never raising.

Each message here is a small inline bytes literal showing one rule; the property test at the end mutates
valid messages by the thousand and asks only that parsing survives them.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_adapters.email.html import html_to_text, sanitize_html
from channels_adapters.email.parse import Attachment, ParsedEmail, parse

HEADERS = (
    b"From: Vera Lind <vera@home.example>\r\n"
    b"To: support@shop.example\r\n"
    b"Subject: Where is my order?\r\n"
    b"Date: Sun, 03 May 2026 10:15:00 +0200\r\n"
    b"Message-ID: <q1@home.example>\r\n"
)


def mail(headers: bytes = HEADERS, body: bytes = b"Hello, where is order 1042?\r\n", **extra: bytes) -> bytes:
    """A message: ``headers``, then ``extra`` headers (name_with_underscores=value), a blank line, ``body``."""
    more = b"".join(name.replace("_", "-").encode() + b": " + value + b"\r\n" for name, value in extra.items())
    return headers + more + b"\r\n" + body


def multipart(subtype: str, *parts: bytes, boundary: bytes = b"b0und", headers: bytes = HEADERS, **params) -> bytes:
    extra = b"".join(f'; {name.replace("_", "-")}="{value}"'.encode() for name, value in params.items())
    head = headers + b"MIME-Version: 1.0\r\nContent-Type: multipart/" + subtype.encode()
    head += b'; boundary="' + boundary + b'"' + extra + b"\r\n\r\n"
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return head + body + b"--" + boundary + b"--\r\n"


# Headers and addresses


def test_it_reads_the_sender_recipients_and_ids():
    parsed = parse(
        mail(
            b"From: Vera Lind <Vera@Home.Example>\r\n"
            b"To: Support <SUPPORT@shop.example>, sales@shop.example\r\n"
            b"Cc: jonas@home.example\r\n"
            b"Reply-To: vera.work@office.example\r\n"
            b"Subject: Re: Order 1042\r\n"
            b"Message-ID: <r2@home.example>\r\n"
            b"In-Reply-To: <a1@shop.example>\r\n"
            b"References: <q1@home.example>\r\n <a1@shop.example>\r\n"
        )
    )
    assert isinstance(parsed, ParsedEmail)
    assert (parsed.from_address, parsed.from_name) == ("vera@home.example", "Vera Lind")
    assert parsed.to == ["support@shop.example", "sales@shop.example"]
    assert parsed.cc == ["jonas@home.example"]
    assert parsed.reply_to == ["vera.work@office.example"]
    assert parsed.message_id == "<r2@home.example>"
    assert parsed.in_reply_to == "<a1@shop.example>"
    assert parsed.references == ["<q1@home.example>", "<a1@shop.example>"]
    assert parsed.defects == []


def test_it_decodes_rfc2047_words_split_across_folds_and_charsets():
    parsed = parse(
        mail(
            b"From: =?utf-8?Q?Bj=C3=B8rn?= =?iso-8859-1?Q?_=C5s?= <bjorn@home.example>\r\n"
            b"To: support@shop.example\r\n"
            # A two-byte character split across two B words: its bytes join before decoding.
            b"Subject: =?utf-8?B?UmVrbGFtYXNqb24gcMOl?=\r\n =?utf-8?B?IGJvcmQ=?= =?utf-8?B?w6U=?=\r\n"
            b"\tand  more   spaces\r\n"
        )
    )
    assert parsed.from_name == "Bjørn Ås"
    assert parsed.subject == "Reklamasjon på bordå and more spaces"


def test_it_keeps_a_display_name_whose_encoded_word_hides_a_comma():
    parsed = parse(mail(b"From: =?utf-8?Q?Lind=2C_Vera?= <vera@home.example>\r\nSubject: x\r\n"))
    assert (parsed.from_address, parsed.from_name) == ("vera@home.example", "Lind, Vera")


def test_it_reads_raw_utf8_headers():
    parsed = parse(mail("From: Henrik Ås <henrik@home.example>\r\nSubject: Gavekort på tilbud\r\n".encode()))
    assert parsed.from_name == "Henrik Ås"
    assert parsed.subject == "Gavekort på tilbud"


def test_it_drops_what_is_not_an_address_and_keeps_the_rest():
    parsed = parse(mail(b"From: vera@home.example\r\nTo: x@\r\nTo: support@shop.example\r\nCc: ,,\r\n"))
    assert parsed.to == ["support@shop.example"]
    assert parsed.cc == []
    assert any("to:" in defect for defect in parsed.defects)


def test_it_finds_the_address_behind_an_unbalanced_quote():
    parsed = parse(mail(b'From: "Vera Lind <vera@home.example>\r\nSubject: x\r\n'))
    assert parsed.from_address == "vera@home.example"


def test_it_reads_the_first_of_duplicated_headers_and_says_so():
    parsed = parse(mail(HEADERS + b"Subject: A second subject\r\n"))
    assert parsed.subject == "Where is my order?"
    assert "subject: 2 headers where there is one; the first is read" in parsed.defects


def test_it_gives_empty_values_when_headers_are_missing():
    parsed = parse(b"\r\nJust a body.\r\n")
    assert (parsed.from_address, parsed.from_name, parsed.to, parsed.subject) == ("", "", [], "")
    assert (parsed.message_id, parsed.in_reply_to, parsed.references, parsed.date) == (None, None, [], None)
    assert parsed.text == "Just a body."


def test_it_reads_dates_as_aware_datetimes():
    assert parse(mail()).date == datetime(2026, 5, 3, 10, 15, tzinfo=timezone(timedelta(hours=2)))
    assert parse(mail(HEADERS.replace(b"+0200", b"-0000"))).date == datetime(2026, 5, 3, 10, 15, tzinfo=UTC)
    broken = parse(mail(HEADERS.replace(b"Sun, 03 May 2026 10:15:00 +0200", b"yesterday-ish")))
    assert broken.date is None
    assert any(defect.startswith("date:") for defect in broken.defects)


def test_it_wraps_a_message_id_written_without_angle_brackets():
    parsed = parse(mail(b"From: a@b.example\r\nMessage-ID: q1@home.example\r\nIn-Reply-To: junk <a1@s.example>\r\n"))
    assert (parsed.message_id, parsed.in_reply_to) == ("<q1@home.example>", "<a1@s.example>")


# Bodies, charsets and transfer encodings


def text_part(body: bytes, charset: bytes = b"utf-8", cte: bytes = b"8bit", subtype: bytes = b"plain") -> bytes:
    return (
        (b"Content-Type: text/" + subtype + b"; charset=" + charset + b"\r\nContent-Transfer-Encoding: " + cte)
        + b"\r\n\r\n"
        + body
    )


def test_it_decodes_declared_charsets():
    for charset, text in [
        ("koi8-r", "Где мой заказ?"),
        ("iso-2022-jp", "注文はどこですか"),
        ("windows-1252", "“café”"),
    ]:
        body = text.encode(charset)
        parsed = parse(mail(body=body, MIME_Version=b"1.0", Content_Type=b"text/plain; charset=" + charset.encode()))
        assert parsed.text == text
        assert parsed.defects == []


def test_it_reads_an_unknown_charset_as_utf8_then_latin1():
    declared = b"text/plain; charset=x-unknown-7"
    as_utf8 = parse(mail(body="Grüße".encode(), Content_Type=declared))
    as_latin1 = parse(mail(body="Grüße".encode("latin-1"), Content_Type=declared))
    assert (as_utf8.text, as_latin1.text) == ("Grüße", "Grüße")
    assert "text/plain: unknown charset 'x-unknown-7', decoded as UTF-8 or Latin-1" in as_utf8.defects


def test_it_reads_bytes_that_do_not_fit_their_declared_charset():
    parsed = parse(mail(body="Blåbær".encode(), Content_Type=b"text/plain; charset=us-ascii"))
    assert parsed.text == "Blåbær"
    wrong = parse(mail(body="Blåbær".encode("latin-1"), Content_Type=b"text/plain; charset=utf-8"))
    assert wrong.text == "Blåbær"
    assert any("not valid in the declared charset 'utf-8'" in defect for defect in wrong.defects)


def test_it_does_not_take_a_non_text_codec_for_a_charset():
    parsed = parse(mail(body=b"eJzLSM3JyQcABiwCFQ==\r\n", Content_Type=b"text/plain; charset=base64"))
    assert parsed.text == "eJzLSM3JyQcABiwCFQ=="


def test_it_decodes_quoted_printable_and_base64_with_broken_padding():
    qp = parse(
        mail(
            body=b"Bl=C3=A5b=C3=A6r og k=\r\naffe\r\n",
            Content_Type=b"text/plain; charset=utf-8",
            Content_Transfer_Encoding=b"quoted-printable",
        )
    )
    assert qp.text == "Blåbær og kaffe"
    unpadded = base64.b64encode(b"Kvittering for ordre 1042").rstrip(b"=")[:-1]
    b64 = parse(
        mail(body=unpadded + b"\r\n", Content_Type=b"text/plain; charset=utf-8", Content_Transfer_Encoding=b"base64")
    )
    assert b64.text.startswith("Kvittering for ordre 10")


def test_it_prefers_the_plain_part_and_keeps_the_sanitised_html():
    parsed = parse(
        multipart(
            "alternative",
            text_part(b"Plain words"),
            text_part(b"<p>HTML <b>words</b></p><script>alert(1)</script>", subtype=b"html"),
        )
    )
    assert parsed.text == "Plain words"
    assert parsed.html == "<p>HTML <b>words</b></p>"


def test_it_renders_html_only_mail_as_text():
    html = (
        b"<html><head><title>T</title><style>p{color:red}</style></head><body>"
        b"<p>Hi&nbsp;there &amp; welcome</p><div>Track it <a href='https://post.example/t/1'>here</a>.</div>"
        b"<ul><li>one</li><li>two</li></ul>Line<br>break<script>var x = 1;</script></body></html>"
    )
    parsed = parse(mail(body=html, Content_Type=b"text/html; charset=utf-8"))
    assert (
        parsed.text == "Hi there & welcome\n\nTrack it here (https://post.example/t/1).\n\n- one\n- two\n\nLine\nbreak"
    )
    assert parsed.html


def test_it_joins_the_plain_parts_of_a_mixed_message_and_reads_nested_multiparts():
    inner = multipart(
        "alternative",
        text_part(b"First words"),
        text_part(b"<p>First</p>", subtype=b"html"),
        boundary=b"inner",
        headers=b"",
    )
    parsed = parse(multipart("mixed", inner, text_part(b"Second words")))
    assert parsed.text == "First words\n\nSecond words"


def test_it_reads_a_multipart_whose_boundary_never_appears_as_text():
    raw = HEADERS + b'Content-Type: multipart/mixed; boundary="nowhere"\r\n\r\nThe whole body.\r\n'
    parsed = parse(raw)
    assert "The whole body." in parsed.text
    assert any("boundary never appears" in defect for defect in parsed.defects), parsed.defects


def test_it_reads_the_last_part_when_the_final_boundary_is_missing():
    raw = multipart("mixed", text_part(b"Complete part"), text_part(b"Truncated part"))
    parsed = parse(raw[: raw.rindex(b"--b0und--")])
    assert parsed.text == "Complete part\n\nTruncated part"


# Attachments


def attachment_part(headers: bytes, content: bytes) -> bytes:
    return headers + b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(content)


def test_it_keeps_attachments_with_their_bytes_and_rfc2231_filenames():
    pdf = b"%PDF-1.4\n%\xe2\xe3\n"
    parsed = parse(
        multipart(
            "mixed",
            text_part(b"See attached"),
            attachment_part(
                b"Content-Type: application/pdf\r\n"
                b"Content-Disposition: attachment; filename*=utf-8''Kvittering%20bl%C3%A5.pdf\r\n",
                pdf,
            ),
            attachment_part(b'Content-Type: application/octet-stream; name="=?utf-8?q?r=C3=B8d.bin?="\r\n', b""),
        )
    )
    assert parsed.attachments == [
        Attachment("Kvittering blå.pdf", "application/pdf", len(pdf), pdf, inline=False, content_id=None),
        Attachment("rød.bin", "application/octet-stream", 0, b"", inline=False, content_id=None),
    ]


def test_it_marks_cid_images_inline_and_keeps_cid_links_in_the_html():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    parsed = parse(
        multipart(
            "related",
            text_part(b'<p>Scratch:<img src="cid:img1@home"></p>', subtype=b"html"),
            attachment_part(b"Content-Type: image/png\r\nContent-ID: <img1@home>\r\n", png),
        )
    )
    assert parsed.attachments == [Attachment("", "image/png", len(png), png, inline=True, content_id="img1@home")]
    assert '<img src="cid:img1@home">' in parsed.html


def test_it_keeps_calendar_invites_and_forwarded_messages_as_attachments():
    forwarded = b"From: dana@shop.example\r\nSubject: Old answer\r\nMessage-ID: <old@shop.example>\r\n\r\nOld text\r\n"
    parsed = parse(
        multipart(
            "mixed",
            text_part(b"Forwarding this"),
            b"Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR",
            b"Content-Type: message/rfc822\r\n\r\n" + forwarded,
        )
    )
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("", "text/calendar"),
        ("", "message/rfc822"),
    ]
    assert parsed.attachments[1].content == forwarded
    assert parsed.text == "Forwarding this"


def test_it_counts_an_image_the_html_shows_as_inline_whatever_its_disposition():
    parsed = parse(
        multipart(
            "mixed",
            text_part(b'<img src="cid:icon.png">', subtype=b"html"),
            attachment_part(
                b"Content-Type: image/png\r\nContent-Disposition: attachment\r\nContent-ID: <icon.png>\r\n", b"P"
            ),
            attachment_part(
                b"Content-Type: image/png\r\nContent-Disposition: attachment\r\nContent-ID: <other>\r\n", b"Q"
            ),
            attachment_part(b"Content-Type: image/png\r\nContent-ID: no-brackets.png\r\n", b"R"),
        )
    )
    assert [(a.content_id, a.inline) for a in parsed.attachments] == [
        ("icon.png", True),
        ("other", False),
        ("no-brackets.png", False),
    ]


# HTML sanitising and rendering


def test_it_removes_active_content_from_html():
    dirty = (
        '<p onclick="steal()">Hi</p><script>alert(1)</script><style>body{}</style>'
        '<iframe src="https://evil.example"></iframe><object data="x.swf"></object>'
        '<form action="https://evil.example"><input name="pw"></form>'
        '<a href="javascript:alert(1)">bad</a><a href="https://ok.example" target="_top">ok</a>'
    )
    clean = sanitize_html(dirty)
    for forbidden in ("onclick", "script", "<style", "iframe", "object", "<form", "<input", "javascript:", "_top"):
        assert forbidden not in clean
    assert '<a href="https://ok.example" target="_blank" rel="noopener noreferrer">ok</a>' in clean


def test_it_does_not_load_remote_images_but_keeps_their_url():
    clean = sanitize_html('<img src="https://track.example/p.gif?u=1&amp;v=2" alt="x"><img src="//cdn.example/a.png">')
    assert " src=" not in clean
    assert 'data-remote-src="https://track.example/p.gif?u=1&amp;v=2"' in clean
    assert 'data-remote-src="//cdn.example/a.png"' in clean


def test_it_keeps_safe_inline_styles_only():
    clean = sanitize_html('<p style="color: red; background: url(https://t.example/x.gif)">x</p>')
    assert "color" in clean
    assert "url(" not in clean


def test_it_renders_links_whose_text_is_their_address_once():
    assert html_to_text('<a href="https://a.example">https://a.example</a>') == "https://a.example"
    assert html_to_text('<a href="mailto:vera@home.example">vera@home.example</a>') == "vera@home.example"
    assert html_to_text("<p>a</p><p>b</p><table><tr><td>c</td><td>d</td></tr></table>") == "a\n\nb\n\nc d"


# Auto-replies, bounces and list mail


def test_it_recognises_auto_replies_by_their_headers():
    for name, value in [
        ("Auto-Submitted", b"auto-replied"),
        ("X-Autoreply", b"yes"),
        ("X-Autorespond", b"Out of office"),
        ("Precedence", b"auto_reply"),
        ("Precedence", b"junk"),
    ]:
        assert parse(mail(**{name.replace("-", "_"): value})).auto == "auto-reply", name
    assert parse(mail(Auto_Submitted=b"no")).auto is None


def test_it_recognises_outlook_automatic_replies_by_subject_and_suppress_header():
    headers = HEADERS.replace(b"Subject: Where is my order?", b"Subject: Automatic reply: Where is my order?")
    assert parse(mail(headers, X_Auto_Response_Suppress=b"All")).auto == "auto-reply"
    assert parse(mail(X_Auto_Response_Suppress=b"All")).auto is None  # Outlook puts it on people's mail too


def test_it_recognises_list_mail():
    assert parse(mail(List_Id=b"<news.shop.example>")).auto == "list"
    assert parse(mail(List_Unsubscribe=b"<mailto:leave@shop.example>")).auto == "list"
    assert parse(mail(Precedence=b"list")).auto == "list"
    assert parse(mail()).auto is None


def test_it_takes_a_read_receipt_for_an_auto_reply():
    receipt = multipart(
        "report",
        text_part(b"Your message was displayed."),
        b"Content-Type: message/disposition-notification\r\n\r\n"
        b"Disposition: automatic-action/MDN-sent-automatically; displayed\r\n",
        report_type="disposition-notification",
    )
    assert parse(receipt).auto == "auto-reply"


DSN_HEADERS = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>\r\n"
    b"To: support@shop.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
)
DELIVERY_STATUS = (
    b"Content-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.shop.example\r\n\r\n"
    b"Final-Recipient: rfc822; gone@home.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 <gone@home.example>: Recipient address rejected\r\n"
)


def test_it_reads_a_delivery_status_notification():
    returned = b"From: support@shop.example\r\nMessage-ID: <parley.42@shop.example>\r\nSubject: Re: x\r\n\r\nHi\r\n"
    parsed = parse(
        multipart(
            "report",
            text_part(b"Your message could not be delivered."),
            DELIVERY_STATUS,
            b"Content-Type: message/rfc822\r\n\r\n" + returned,
            headers=DSN_HEADERS,
            report_type="delivery-status",
        )
    )
    assert parsed.auto == "bounce"
    assert parsed.bounce_of == "<parley.42@shop.example>"
    assert parsed.bounce_reason == "550 5.1.1 <gone@home.example>: Recipient address rejected"
    assert [attachment.content_type for attachment in parsed.attachments] == [
        "message/delivery-status",
        "message/rfc822",
    ]
    assert parsed.attachments[1].content == returned


def test_it_finds_the_bounced_message_id_in_returned_headers():
    headers = DSN_HEADERS.replace(b"MAILER-DAEMON@mx.shop.example", b"postmaster@outlook.example")
    parsed = parse(
        multipart(
            "report",
            text_part(b"Delivery has failed."),
            DELIVERY_STATUS.replace(
                b"Diagnostic-Code: smtp; 550 5.1.1 <gone@home.example>: Recipient address rejected\r\n", b""
            ),
            b"Content-Type: text/rfc822-headers\r\n\r\n"
            b"From: support@shop.example\r\nMessage-ID:\r\n <parley.43@shop.example>\r\n",
            headers=headers,
            report_type="delivery-status",
        )
    )
    assert (parsed.auto, parsed.bounce_of, parsed.bounce_reason) == ("bounce", "<parley.43@shop.example>", "5.1.1")


def test_it_keeps_a_delivery_status_with_a_control_character_in_a_header():
    # \x1e ends a line for str.splitlines: the stdlib's generator takes it for a header hidden in the value.
    status = DELIVERY_STATUS.replace(b"550 5.1.1 <gone", b"550 5.1.1 \x1e<gone")
    parsed = parse(
        multipart("report", text_part(b"failed"), status, headers=DSN_HEADERS, report_type="delivery-status")
    )
    assert parsed.auto == "bounce"
    assert parsed.bounce_reason == "550 5.1.1 <gone@home.example>: Recipient address rejected"
    assert b"\x1e<gone@home.example>" in parsed.attachments[0].content


def test_it_takes_mail_from_mailer_daemon_for_a_bounce():
    parsed = parse(
        mail(
            DSN_HEADERS,
            body=b"Sorry.\r\n--- Below this line is a copy of the message.\r\n\r\n"
            b"Message-ID: <parley.44@shop.example>\r\n",
        )
    )
    assert (parsed.auto, parsed.bounce_of) == ("bounce", "<parley.44@shop.example>")


# Never raising


def test_it_never_raises_on_bytes_that_are_no_mail():
    for raw in [
        b"",
        b"\x00" * 50,
        b"\xff\xfe\xfd",
        b":\r\n:\r\n",
        b"From:\r\n\r\n",
        b"Content-Type: multipart/x\r\n\r\n--",
        b"Subject: =?utf-8?B?====?=\r\nFrom: =?x?Q?=ZZ?= <@>\r\n\r\n",
        b"A" * 100_000,
    ]:
        assert isinstance(parse(raw), ParsedEmail)


def test_it_still_reads_the_headers_when_reading_the_body_fails(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a bug, or a stdlib surprise")

    monkeypatch.setattr("channels_adapters.email.parse._Reader._walk", fail)
    parsed = parse(mail())
    assert (parsed.from_address, parsed.subject, parsed.text) == ("vera@home.example", "Where is my order?", "")
    assert parsed.defects == ["the message could not be read (RuntimeError); headers only"]


def test_it_reads_adversarial_input_in_linear_time():
    # Each took tens of seconds once: html.parser rescans an unclosed tag from its start on every
    # chunk, and a findall for "x@y" backtracks over every start of a long run without an "@".
    for raw in [
        mail(body=b"<p>Hi</p>" + b"<a " * 20_000, Content_Type=b"text/html"),
        mail(HEADERS.replace(b"From: Vera Lind <vera@home.example>", b"From: " + b"a" * 100_000)),
        mail(DSN_HEADERS, body=b"\n" * 200_000),
    ]:
        started = time.monotonic()
        parse(raw)
        assert time.monotonic() - started < 2


def test_it_survives_multiparts_nested_deeper_than_any_client_nests():
    raw = text_part(b"deep")
    for level in range(60):
        raw = multipart("mixed", raw, boundary=f"level{level}".encode(), headers=b"")
    parsed = parse(HEADERS + raw)
    assert isinstance(parsed, ParsedEmail)
    assert any("nested deeper" in defect for defect in parsed.defects)


SEEDS = [
    mail(),
    multipart(
        "alternative",
        text_part(b"Plain =C3=A5", cte=b"quoted-printable"),
        text_part(base64.encodebytes("<p>Blå</p>".encode()), subtype=b"html", cte=b"base64"),
    ),
    multipart(
        "mixed",
        text_part("Привет".encode("koi8-r"), charset=b"koi8-r"),
        attachment_part(
            b"Content-Type: image/png\r\nContent-Disposition: attachment; filename*=utf-8''a%C3%A5.png\r\n",
            b"\x89PNG" * 10,
        ),
    ),
    multipart(
        "report",
        text_part(b"failed"),
        DELIVERY_STATUS,
        b"Content-Type: message/rfc822\r\n\r\nMessage-ID: <x@y>\r\n\r\nhi",
        headers=DSN_HEADERS,
        report_type="delivery-status",
    ),
]


@st.composite
def mutated_messages(draw) -> bytes:
    """A valid message with a few mutations: bytes flipped, inserted or cut, header lines dropped,
    duplicated or folded, boundaries and encoded words corrupted."""
    raw = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["flip", "insert", "cut", "drop", "duplicate", "fold", "boundary", "word", "poison"])
        )
        lines = raw.split(b"\r\n")
        if kind == "flip" and raw:
            at = draw(st.integers(0, len(raw) - 1))
            raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
        elif kind == "insert":
            at = draw(st.integers(0, len(raw)))
            junk = draw(
                st.sampled_from([b"\x00", b"\r", b"\n", b"=?", b"?=", b"--", b"\xff\xfe", b'"', b"<", b";", b"=\r\n"])
            )
            raw = raw[:at] + junk + draw(st.binary(max_size=8)) + raw[at:]
        elif kind == "cut" and raw:
            at = draw(st.integers(0, len(raw) - 1))
            raw = raw[:at] + raw[at + draw(st.integers(1, 40)) :]
        elif kind in ("drop", "duplicate", "fold") and lines:
            at = draw(st.integers(0, len(lines) - 1))
            if kind == "drop":
                del lines[at]
            elif kind == "duplicate":
                lines.insert(at, lines[at])
            else:
                line = lines[at]
                cut = draw(st.integers(0, len(line)))
                lines[at : at + 1] = [line[:cut], draw(st.sampled_from([b" ", b"\t", b"", b"  \t"])) + line[cut:]]
            raw = b"\r\n".join(lines)
        elif kind == "boundary":
            raw = raw.replace(
                draw(st.sampled_from([b"b0und", b"--b0und--", b"boundary="])), draw(st.binary(max_size=6)), 1
            )
        elif kind == "poison":
            # Junk right where parsers look hardest: parameter values, header values, encoded words.
            anchor = draw(st.sampled_from([b"charset=", b"boundary=", b"filename", b"Content-Type: ", b": ", b"=?"]))
            junk = draw(st.sampled_from([b"\x00", b"\x1e", b"\x0c", b"\x85", b"\xc3", b'"', b"*", b"''", b"\r\n\r\n"]))
            raw = raw.replace(anchor, anchor + junk, draw(st.integers(1, 3)))
        elif kind == "word":
            raw = raw.replace(
                draw(st.sampled_from([b"utf-8", b"base64", b"quoted-printable", b"charset=", b"?Q?", b"filename*="])),
                draw(st.sampled_from([b"x-unknown", b"", b"rot13", b"zlib", b"utf-16", b"base-64", b"\xc3"])),
                1,
            )
    return raw


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_messages())
def test_it_never_raises_on_mutated_messages(raw):
    parsed = parse(raw)
    assert isinstance(parsed, ParsedEmail)
    assert all(isinstance(attachment, Attachment) for attachment in parsed.attachments)
    assert parsed.date is None or parsed.date.tzinfo is not None
