"""The HTML of inbound mail: sanitised for display, and rendered as plain text.

``sanitize_html`` is what the console may show (in an isolated frame, issue 13 point 5): no scripts,
styles sheets, frames, forms or event handlers, links that open a new tab without an opener, and no remote
image loaded until the agent asks (``data-remote-src`` keeps the URL). ``html_to_text`` is the text an
HTML-only mail is read, searched and quoted as.
"""

from __future__ import annotations

import functools
import html as html_entities
import re
from html.parser import HTMLParser

import nh3

# nh3's defaults minus nothing (they already leave out script, style, iframe, object, form and input),
# plus the presentational markup mail clients still write: <font>, and table layout attributes.
_TAGS = set(nh3.ALLOWED_TAGS) | {"font"}
_LAYOUT = {
    "align",
    "valign",
    "width",
    "height",
    "bgcolor",
    "border",
    "cellpadding",
    "cellspacing",
    "colspan",
    "rowspan",
}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = {"style", "dir", "lang", "title"}
_ATTRIBUTES["font"] = {"color", "face", "size"}
_ATTRIBUTES["img"] = {"src", "alt", "width", "height", "align", "border"}
for _tag in ("table", "tbody", "thead", "tr", "td", "th", "col", "colgroup", "div", "p"):
    _ATTRIBUTES[_tag] = _ATTRIBUTES.get(_tag, set()) | _LAYOUT
# Inline styles carry most of a mail's look; none of these properties can fetch a URL (no background,
# no list-style-image, no content), so a style cannot load a tracking pixel behind the agent's back.
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "text-align", "text-decoration", "text-transform", "line-height", "letter-spacing", "white-space",
    "vertical-align", "width", "max-width", "min-width", "height", "margin", "margin-top", "margin-right",
    "margin-bottom", "margin-left", "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style",
    "border-width", "border-collapse", "border-radius", "display",
}  # fmt: skip
# cid: is how a mail points at its own inline images; the console maps it to the attachment.
_URL_SCHEMES = (set(nh3.ALLOWED_URL_SCHEMES) - {"url"}) | {"cid"}
_IMG_TAG = re.compile(r"<img\b[^>]*>")
# nh3 serialises every attribute as name="value" with " and > escaped, so this cannot leave the tag.
_REMOTE_SRC = re.compile(r'\ssrc="((?:https?:)?//[^"]*)"', re.IGNORECASE)


def _hide_remote_image(match: re.Match) -> str:
    return _REMOTE_SRC.sub(r' data-remote-src="\1"', match.group(0))


def sanitize_html(source: str) -> str:
    """``source`` safe to show: see the module's docstring. Never raises for any string."""
    if not source.strip():
        return ""
    cleaned = _cleaner().clean(source.replace("\x00", ""))
    return _IMG_TAG.sub(_hide_remote_image, cleaned)


@functools.cache
def _cleaner() -> nh3.Cleaner:
    # Built once: handing nh3 these sets on every call costs four times the sanitising itself.
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties=_STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
    )


_BLOCK = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tr", "ul", "caption", "summary", "details",
}  # fmt: skip
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "ul", "ol", "pre", "hr"}
_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "xml"}
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


class _TextRenderer(HTMLParser):
    """Collects text, turning block boundaries into line breaks. Breaks are held back until the next
    text, so that nested blocks (a <p> in a <div> in a <td>) give one blank line, not five."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.pre = 0
        self.breaks = 0
        self.prefix = ""
        self.links: list[tuple[str, int]] = []

    def _break(self, count: int):
        self.breaks = max(self.breaks, count)

    def _emit(self, text: str):
        if self.breaks:
            if self.out:
                self.out.append("\n" * self.breaks)
            self.breaks = 0
            text = text.lstrip(" ")
        if self.prefix:
            text, self.prefix = self.prefix + text, ""
        self.out.append(text)

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            if self.breaks:
                self.breaks += 1
            else:
                self.out.append("\n")
        elif tag in _BLOCK:
            self._break(2 if tag in _PARAGRAPH else 1)
            if tag == "li":
                self.prefix = "- "
            elif tag == "pre":
                self.pre += 1
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            href = next((value for name, value in attrs if name == "href" and value), "")
            self.links.append((href.strip(), len(self.out)))

    def handle_startendtag(self, tag, attrs):
        if tag not in _SKIPPED:
            self.handle_starttag(tag, attrs)
            if tag in _BLOCK:
                self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._break(2 if tag in _PARAGRAPH else 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            shown = href[7:] if href.lower().startswith("mailto:") else href
            # A link whose text is its own address reads fine without it; others keep where they go.
            if href and not href.lower().startswith(("cid:", "#", "javascript:")) and label not in (href, shown):
                self._emit(f" ({shown})" if label else shown)

    def handle_data(self, data):
        if self.skipping:
            return
        if not self.pre:
            data = _SPACES.sub(" ", data)
            if data == " " and (self.breaks or not self.out):
                return
        self._emit(data)


def _tidy(text: str) -> str:
    lines = [line.strip() if line.strip() else "" for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(source: str) -> str:
    """A plain-text rendering of ``source``: blocks on their own lines, list items as "- ", links as
    "text (url)", entities decoded, scripts and styles dropped. Never raises for any string.

    Give it ``sanitize_html``'s output, not raw mail: html.parser takes quadratic time on some
    malformed markup (an unclosed "<a " repeated), which nh3's well-formed output never is."""
    renderer = _TextRenderer()
    try:
        renderer.feed(source)
        renderer.close()
        return _tidy("".join(renderer.out))
    except Exception:  # noqa: BLE001 - html.parser has asserted on odd markup in some releases
        stripped = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>|<[^>]*>", " ", source)
        return _tidy(_SPACES.sub(" ", html_entities.unescape(stripped)))
