"""The Open Graph share card."""

from __future__ import annotations

import inspect
import io
from datetime import date

from PIL import Image

from issuer.artwork import accent_colour
from issuer.card import HEIGHT, WIDTH, og_card_png

ISSUED = date(2026, 3, 12)


def card(
    achievement_name: str = "Analiza danych w Excelu",
    provider_name: str = "Centrum Kształcenia Ustawicznego w Lublinie",
    lang: str = "pl",
    badge_png: bytes | None = None,
) -> Image.Image:
    png = og_card_png(
        achievement_id="3f9a",
        achievement_name=achievement_name,
        provider_name=provider_name,
        issued_on=ISSUED,
        lang=lang,
        badge_png=badge_png,
    )
    return Image.open(io.BytesIO(png))


def rgb(colour: str) -> tuple[int, int, int]:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return red, green, blue


def test_card_is_a_1200_by_630_png() -> None:
    image = card()

    assert (image.format, image.size, image.mode) == ("PNG", (1200, 630), "RGB")
    assert (WIDTH, HEIGHT) == (1200, 630)


def test_card_has_no_place_for_the_learner() -> None:
    # Platforms cache the card where the learner cannot withdraw it: it shows the achievement, never the person.
    parameters = set(inspect.signature(og_card_png).parameters)

    assert parameters == {"achievement_id", "achievement_name", "provider_name", "issued_on", "lang", "badge_png"}


def test_generated_badge_is_drawn_in_the_achievement_colour() -> None:
    image = card()

    assert image.getpixel((600, 2)) == rgb(accent_colour("3f9a"))  # the accent bar along the top
    assert image.getpixel((150, 280)) == rgb(accent_colour("3f9a"))  # inside the badge, clear of its text


def test_the_achievements_own_png_replaces_the_generated_badge() -> None:
    uploaded = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 40)).save(uploaded, format="PNG")

    image = card(badge_png=uploaded.getvalue())

    assert image.getpixel((260, 280)) == (200, 30, 40)  # scaled up to fill the badge area
    assert image.getpixel((60, 280)) == (200, 30, 40)


def test_long_and_ukrainian_names_are_drawn() -> None:
    image = card(
        achievement_name="Основи кібербезпеки для ґрунтовних їжаків " * 6,
        provider_name="Фундація «Є» " * 10,
        lang="uk",
    )

    assert image.size == (1200, 630)


def test_same_input_same_picture() -> None:
    first = og_card_png(achievement_id="a", achievement_name="SQL", provider_name="UMCS", issued_on=ISSUED, lang="en")
    again = og_card_png(achievement_id="a", achievement_name="SQL", provider_name="UMCS", issued_on=ISSUED, lang="en")

    assert first == again
