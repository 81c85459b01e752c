"""What visitors send, as both sides see it: links, hostile text, attachments, refusals and limits.

Entry points: the demo page with the embedded widget (``/``) and the agent console (``/console/``).
"""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import FrameLocator, Locator, expect

from tests.browser.test_round_trip import (
    PENDING,
    conversation_list,
    customer_name_of,
    open_widget,
    sign_in,
    start_conversation,
    timeline_entry,
    visitor_says,
    widget_message,
)

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)> https://example.com/a?b=1"
REL = "noopener noreferrer nofollow"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png(width: int = 8, height: int = 8) -> bytes:
    """A real (decodable) PNG: solid teal."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x0f\x76\x6e" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def attach(widget: FrameLocator, *files: dict) -> None:
    expect(widget.get_by_role("button", name="Attach a file")).to_be_visible()
    widget.locator('#composer input[type="file"]').set_input_files(list(files))


def uploads(widget: FrameLocator) -> Locator:
    return widget.get_by_role("list", name="Files to send").get_by_role("listitem")


def assert_shown_as_text_with_one_link(message: Locator) -> None:
    body = message.locator(".body, p").first
    expect(body).to_have_text(HOSTILE)
    expect(message.locator("img")).to_have_count(0)
    link = message.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text("https://example.com/a?b=1")
    expect(link).to_have_attribute("href", "https://example.com/a?b=1")
    expect(link).to_have_attribute("rel", REL)
    expect(link).to_have_attribute("target", "_blank")


def test_it_shows_hostile_text_as_text_with_one_working_link_to_the_visitor_and_the_agent(stack, people):
    dialogs: list[str] = []
    visitor, widget, agent = start_conversation(stack, people, "Hello, a question about a link")
    for page in (visitor, agent):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    expect(visitor_says(widget, HOSTILE)).not_to_have_class(PENDING)

    assert_shown_as_text_with_one_link(widget_message(widget, HOSTILE))
    in_console = timeline_entry(agent, HOSTILE)
    expect(in_console).to_be_visible()
    assert_shown_as_text_with_one_link(in_console)
    # The customer's name in the console list and heading is text too.
    expect(agent.locator("#thread-title")).to_contain_text(customer_name_of(stack, HOSTILE))

    # After a reload the replay renders the same way.
    visitor.reload()
    widget = open_widget(visitor)
    assert_shown_as_text_with_one_link(widget_message(widget, HOSTILE))
    assert dialogs == []


def test_it_links_only_http_urls_and_keeps_punctuation_out_of_them(stack, people):
    page = people.new_page()
    page.goto("/healthz")
    # Under the static files' version, as the server names it (docs/deployment.md).
    text_js = stack.shell("from django.templatetags.static import static; print(static('parley/text.js'))")
    page.add_script_tag(url=text_js.strip().splitlines()[-1])

    def nodes(text: str) -> list[list[str]]:
        return page.evaluate(
            """text => Array.from(ParleyText.linkify(text).childNodes)
                 .filter(n => n.nodeName !== '#text' || n.textContent)
                 .map(n => n.nodeName === 'A' ? ['a', n.textContent, n.href, n.rel, n.target]
                                             : ['text', n.textContent])""",
            text,
        )

    assert nodes("see https://example.com/a?b=1.") == [
        ["text", "see "],
        ["a", "https://example.com/a?b=1", "https://example.com/a?b=1", REL, "_blank"],
        ["text", "."],
    ]
    assert nodes("(www.example.com/tents, or https://en.wikipedia.org/wiki/Tent_(camping))") == [
        ["text", "("],
        ["a", "www.example.com/tents", "https://www.example.com/tents", REL, "_blank"],
        ["text", ", or "],
        [
            "a",
            "https://en.wikipedia.org/wiki/Tent_(camping)",
            "https://en.wikipedia.org/wiki/Tent_(camping)",
            REL,
            "_blank",
        ],
        ["text", ")"],
    ]
    for text in [
        "javascript:alert(1)",
        "ftp://example.com/x",
        "https:// nothing",
        "<a href=x>y</a>",
        "data:text/html,hi",
    ]:
        assert nodes(text) == [["text", text]], text
    assert nodes('"https://example.com/"><script>') == [
        ["text", '"'],
        ["a", "https://example.com/", "https://example.com/", REL, "_blank"],
        ["text", '"><script>'],
    ]
    # A link that is not http(s) never becomes an image or a link, only the file's name.
    shown = page.evaluate(
        """() => ParleyText.attachments([{url: 'javascript:alert(1)', filename: '<b>x</b>.png', is_image: true}])
              .outerHTML"""
    )
    assert shown == '<div class="attachments"><span class="attachment pending">&lt;b&gt;x&lt;/b&gt;.png</span></div>'


def test_it_sends_an_image_and_a_pdf_the_image_inline_for_both(stack, people):
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)

    attach(
        widget,
        {"name": "tent.png", "mimeType": "image/png", "buffer": png()},
        {"name": "invoice 12.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    expect(uploads(widget)).to_have_count(2)
    expect(uploads(widget).and_(widget.locator(".done"))).to_have_count(2)
    mine = visitor_says(widget, "My tent and the invoice")
    expect(mine).not_to_have_class(PENDING)
    expect(uploads(widget)).to_have_count(0)

    image = mine.get_by_role("img", name="tent.png")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 8
    pdf = mine.get_by_role("link", name=re.compile(r"^invoice 12\.pdf"))
    expect(pdf).to_have_attribute("href", re.compile(r"/files/"))
    download = visitor.request.get(pdf.get_attribute("href"))
    assert download.ok
    assert download.body() == PDF
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"

    conversation_list(agent).filter(has_text=customer_name_of(stack, "My tent and the invoice")).click()
    in_console = timeline_entry(agent, "My tent and the invoice")
    console_image = in_console.get_by_role("img", name="tent.png")
    expect(console_image).to_be_visible()
    assert console_image.evaluate("img => img.complete && img.naturalWidth") == 8
    expect(in_console.get_by_role("link", name=re.compile(r"^invoice 12\.pdf"))).to_be_visible()

    # The replay after a reload carries them too, with fresh links.
    visitor.reload()
    widget = open_widget(visitor)
    expect(widget_message(widget, "My tent and the invoice").get_by_role("img", name="tent.png")).to_be_visible()


def test_it_tells_the_visitor_a_file_was_refused_and_sends_the_rest(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)

    attach(widget, {"name": "page.html", "mimeType": "text/html", "buffer": b"<script>alert(1)</script>"})

    refused = uploads(widget).filter(has_text="page.html")
    expect(refused).to_contain_text("files of this type (text/html) cannot be sent here")
    expect(refused.get_by_role("alert")).to_be_visible()
    # The visitor can take it away and still write.
    refused.get_by_role("button", name="Remove page.html").click()
    expect(uploads(widget)).to_have_count(0)
    expect(visitor_says(widget, "Never mind the file")).not_to_have_class(PENDING)


# An hour-long window: with the default of 20 a minute, a slow machine could cross a window boundary
# half-way through the test and never reach the limit.
@pytest.mark.server_env(PARLEY_RATE_MESSAGES_PER_VISITOR="3/hour")
def test_it_asks_a_visitor_who_writes_too_fast_to_wait_and_keeps_the_message(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    for n in range(1, 4):
        expect(visitor_says(widget, f"message {n:02d}")).not_to_have_class(PENDING)

    held = visitor_says(widget, "message 04")

    expect(widget.get_by_role("status")).to_contain_text("You are sending messages quickly. We will send yours in")
    expect(held).to_have_class(PENDING)
    # Kept for the retry, across a reload too: the frame's storage still holds it as pending.
    kept = widget.locator("body").evaluate(
        "() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => /^parley:[^:]+$/.test(k)))).pending"
    )
    assert [p["body"] for p in kept] == ["message 04"]
