"""How a widget looks: /widget/api/appearance/<key>/ (for the loader's bubble) and the frame's header and colours."""

from __future__ import annotations

import re

import pytest

from widget.appearance import NEAR_BLACK, WHITE, appearance_of, contrast_ratio, text_color_on

pytestmark = pytest.mark.django_db


def configure(inbox, **config):
    inbox.config = config
    inbox.save(update_fields=["config"])
    return inbox


def css_variable(response, name: str) -> str:
    return re.search(rf"--{name}:([^;]+);", response.content.decode()).group(1).strip()


def test_it_serves_the_bubble_colour_and_side_to_any_site(client, website):
    configure(website, brand_color="#0F766E", position="left", title="Acme help")

    response = client.get(f"/widget/api/appearance/{website.public_key}/")

    assert response.status_code == 200
    assert response.json() == {
        "brand_color": "#0f766e",
        "text_color": WHITE,
        "ring_color": "#0f766e",
        "position": "left",
        "title": "Acme help",
        "locale": "",
    }
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=300"


def test_it_tells_the_loader_nothing_but_the_look(client, website):
    configure(website, brand_color="#123456", greeting="Hi", avatar_url="https://cdn.example/a.png", locale="de")

    body = client.get(f"/widget/api/appearance/{website.public_key}/").content.decode()

    assert website.secret not in body
    assert "shop.example" not in body
    assert set(client.get(f"/widget/api/appearance/{website.public_key}/").json()) == {
        "brand_color",
        "text_color",
        "ring_color",
        "position",
        "title",
        "locale",
    }


def test_it_gives_an_inbox_without_settings_the_default_look(client, website):
    assert client.get(f"/widget/api/appearance/{website.public_key}/").json() == {
        "brand_color": "#2563eb",
        "text_color": WHITE,
        "ring_color": "#2563eb",
        "position": "right",
        "title": "Website",
        "locale": "",
    }


def test_it_answers_an_unknown_widget_or_a_post_with_an_error(client, website):
    assert client.get("/widget/api/appearance/no-such-inbox/").status_code == 404
    assert client.post(f"/widget/api/appearance/{website.public_key}/").status_code == 405


@pytest.mark.parametrize("color", ["red", "#fff", "#12345g", "#2563eb; background:url(x)", "", None, 255])
def test_it_ignores_a_brand_colour_that_is_not_rrggbb(website, color):
    look = appearance_of(configure(website, brand_color=color))

    assert look.brand_color == "#2563eb"


@pytest.mark.parametrize("position", ["center", "LEFT", "", None])
def test_it_keeps_the_bubble_on_the_right_unless_told_left(website, position):
    assert appearance_of(configure(website, position=position)).position == "right"


@pytest.mark.parametrize(
    ("background", "text"),
    [("#2563eb", WHITE), ("#000000", WHITE), ("#7c3aed", WHITE), ("#facc15", NEAR_BLACK), ("#ffffff", NEAR_BLACK)],
)
def test_it_writes_white_on_dark_brand_colours_and_near_black_on_light_ones(background, text):
    assert text_color_on(background) == text


@pytest.mark.parametrize("background", [f"#{v:02x}{(v * 7) % 256:02x}{(v * 13) % 256:02x}" for v in range(0, 256, 5)])
def test_it_picks_the_text_colour_that_contrasts_more_and_clears_aa_where_either_can(background):
    chosen = text_color_on(background)
    other = NEAR_BLACK if chosen == WHITE else WHITE

    assert contrast_ratio(background, chosen) >= contrast_ratio(background, other)
    if contrast_ratio(background, other) >= 4.5:
        assert contrast_ratio(background, chosen) >= 4.5


def test_it_computes_wcag_contrast_ratios():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#2563eb", "#ffffff") == pytest.approx(5.17, abs=0.01)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example/a.png",
        "javascript:alert(1)",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "//cdn.example/a.png",
        "https://user:password@cdn.example/a.png",
        'https://cdn.example/a.png" onerror="alert(1)',
        "https:///a.png",
        "https://cdn.example/" + "a" * 3000,
        42,
    ],
)
def test_it_drops_an_avatar_url_that_is_not_a_plain_https_address(client, website, url):
    configure(website, avatar_url=url)

    html = client.get(f"/widget/frame/{website.public_key}/").content.decode()

    assert appearance_of(website).avatar_url == ""
    assert "<img" not in html
    assert '<span class="avatar mark" aria-hidden="true">W</span>' in html


def test_it_shows_an_https_avatar_in_the_frame_header(client, website):
    configure(website, avatar_url="https://cdn.example/team.png?size=80&v=2")

    html = client.get(f"/widget/frame/{website.public_key}/").content.decode()

    assert '<img class="avatar" src="https://cdn.example/team.png?size=80&amp;v=2" alt="">' in html
    assert "avatar mark" not in html


def test_it_marks_the_frame_with_the_initials_of_its_title(client, website):
    configure(website, title="  Acme   outdoor support ")

    html = client.get(f"/widget/frame/{website.public_key}/").content.decode()

    assert '<h1 id="title">Acme outdoor support</h1>' in html
    assert '<span class="avatar mark" aria-hidden="true">AO</span>' in html


def test_it_paints_the_frame_in_the_brand_colour_with_readable_text(client, website):
    configure(website, brand_color="#FACC15")

    response = client.get(f"/widget/frame/{website.public_key}/")

    assert css_variable(response, "brand") == "#facc15"
    assert css_variable(response, "on-brand") == NEAR_BLACK
    # Yellow on white is invisible as a focus ring: the ring falls back to near-black.
    assert css_variable(response, "ring") == NEAR_BLACK


def test_it_escapes_the_title_and_greeting_it_renders(client, website):
    configure(website, title="<b>Acme</b>", greeting="<img src=x onerror=alert(1)>")

    html = client.get(f"/widget/frame/{website.public_key}/").content.decode()

    assert "<b>Acme</b>" not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_lets_the_frame_translate_the_greeting_only_when_the_inbox_has_none(client, website):
    default = client.get(f"/widget/frame/{website.public_key}/").content.decode()
    configure(website, greeting="Grüezi! Wie können wir helfen?")
    own = client.get(f"/widget/frame/{website.public_key}/").content.decode()

    assert 'id="greeting" data-i18n="greeting">Hi! Ask us anything…</p>' in default
    assert 'id="greeting">Grüezi! Wie können wir helfen?</p>' in own


@pytest.mark.parametrize(("locale", "passed"), [("de", "de"), ("fr-CA", "fr-CA"), ("german", ""), ("<x>", ""), (7, "")])
def test_it_passes_a_well_formed_inbox_locale_to_the_frame(client, website, locale, passed):
    configure(website, locale=locale)

    response = client.get(f"/widget/frame/{website.public_key}/")

    assert response.context["config"]["locale"] == passed
