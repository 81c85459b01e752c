"""How a widget inbox looks: brand colour, side of the page, header, language.

``Inbox.config`` is free JSON written by admins (and, for now, by hand), so every value is read
defensively: a value that is missing or unsafe falls back to the default instead of breaking the
widget on the customer's site.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from contact_center.lib.images import https_image_url

DEFAULT_BRAND_COLOR = "#2563eb"
WHITE = "#ffffff"
# Not pure black: softer on saturated colours, and still above 4.5:1 wherever black would be chosen.
NEAR_BLACK = "#111827"
POSITIONS = ("right", "left")
TITLE_MAX = 80
GREETING_MAX = 500

_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")


@dataclass(frozen=True)
class Appearance:
    brand_color: str
    text_color: str  # text drawn on brand_color: white or near-black, whichever contrasts more
    ring_color: str  # focus outline on white (the conversation, most host pages): must stand out from white
    position: str
    title: str
    initials: str
    greeting: str  # "" means: the frame shows its own default greeting, in the visitor's language
    avatar_url: str  # "" means: show the initials on the brand colour
    locale: str  # "" means: follow the visitor's browser

    def public(self) -> dict:
        """What the loader may know before the frame exists. Served to any origin: nothing secret."""
        data = asdict(self)
        return {key: data[key] for key in ("brand_color", "text_color", "ring_color", "position", "title", "locale")}


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour, 0 (black) to 1 (white)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two ``#rrggbb`` colours, 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background``.

    Either choice clears WCAG AA (4.5:1) for all but a narrow band of mid-luminance colours, where
    no text colour can; there the better of the two is still the right answer.
    """
    return max((WHITE, NEAR_BLACK), key=lambda text: contrast_ratio(background, text))


def _initials(title: str) -> str:
    words = [w for w in re.split(r"\W+", title) if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _color(value) -> str | None:
    return value.lower() if isinstance(value, str) and _HEX_COLOR.fullmatch(value) else None


def _avatar_url(value) -> str | None:
    return https_image_url(value)


def _text(value, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] if value else None


def appearance_of(inbox) -> Appearance:
    """The appearance ``inbox.config`` asks for, with defaults wherever a value is missing or invalid."""
    config = inbox.config if isinstance(inbox.config, dict) else {}
    brand = _color(config.get("brand_color")) or DEFAULT_BRAND_COLOR
    title = _text(config.get("title"), TITLE_MAX) or inbox.name
    locale = config.get("locale")
    return Appearance(
        brand_color=brand,
        text_color=text_color_on(brand),
        ring_color=brand if contrast_ratio(brand, WHITE) >= 3 else NEAR_BLACK,
        position=config.get("position") if config.get("position") in POSITIONS else "right",
        title=title,
        initials=_initials(title),
        greeting=_text(config.get("greeting"), GREETING_MAX) or "",
        avatar_url=_avatar_url(config.get("avatar_url")) or "",
        locale=locale if isinstance(locale, str) and _LOCALE.fullmatch(locale) else "",
    )
