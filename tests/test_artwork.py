"""The generated badge artwork: well-formed, escaped SVG and a PNG drawn from the same layout."""

from __future__ import annotations

import io

import defusedxml.ElementTree
import pytest
from PIL import Image

from issuer.artwork import (
    PALETTE,
    PROGRAMME_MARK,
    accent_colour,
    artwork_png,
    artwork_svg,
    cut_lines,
    keep_short_words,
    plain_text,
    text_width,
)
from issuer.uploaded_images import clean_image

SVG = "{http://www.w3.org/2000/svg}"
LONG_NAME = (
    "Zarządzanie projektami zwinne: Scrum i Kanban w praktyce zespołów rozproszonych oraz hybrydowych "
    "w sektorze nowoczesnych usług biznesowych"
)


def texts(svg: bytes) -> list[str]:
    root = defusedxml.ElementTree.fromstring(svg)
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def test_svg_is_a_well_formed_square_badge_with_a_title() -> None:
    root = defusedxml.ElementTree.fromstring(artwork_svg("a-1", "Analiza danych w Excelu", "UMCS"))

    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 512 512"
    assert root.find(f"{SVG}title").text == "Analiza danych w Excelu — UMCS"


def test_svg_escapes_markup_in_names() -> None:
    svg = artwork_svg("a-1", "<script>alert(1)</script>", 'Fundacja "A&B" <img src=x onerror=alert(1)>')
    root = defusedxml.ElementTree.fromstring(svg)

    assert [element for element in root.iter() if "script" in element.tag or "img" in element.tag] == []
    assert b"<script>" not in svg
    assert "<script>alert(1)</script>" in "".join(texts(svg))


def test_svg_drops_characters_xml_cannot_carry() -> None:
    svg = artwork_svg("a-1", "Kurs\x00 BHP\x1b\ufffe", "Szkoła\x07")

    assert "Kurs BHP" in texts(svg)
    assert "Szkoła" in texts(svg)


def test_polish_and_ukrainian_letters_are_kept() -> None:
    svg = artwork_svg("a-1", "Zażółć gęślą jaźń", "Фундація «Ґрунт» і Єва")

    assert "Zażółć gęślą jaźń" in " ".join(texts(svg)).replace("\u00a0", " ")
    assert "Фундація «Ґрунт» і\u00a0Єва" in texts(svg)


def test_long_name_takes_at_most_three_lines_ending_in_an_ellipsis() -> None:
    lines = [text for text in texts(artwork_svg("a-1", LONG_NAME, "Politechnika Lubelska")) if text != PROGRAMME_MARK]
    name_lines = lines[1:]  # the provider comes first in the drawing order

    assert len(name_lines) == 3
    assert name_lines[-1].endswith("…")
    assert LONG_NAME.startswith(" ".join(name_lines).replace("\u00a0", " ").removesuffix("…").rstrip(" :"))


def test_every_badge_carries_the_programme_mark() -> None:
    assert PROGRAMME_MARK in texts(artwork_svg("a-1", "SQL", "UMCS"))


def test_colour_depends_on_the_achievement_id_only() -> None:
    assert accent_colour("a-1") == accent_colour("a-1")
    assert accent_colour("a-1") in PALETTE
    assert len({accent_colour(f"achievement-{number}") for number in range(60)}) >= 6


def test_png_is_square_transparent_around_and_drawn_in_the_svg_colour() -> None:
    image = Image.open(io.BytesIO(artwork_png("a-7", "SQL", "UMCS")))

    assert image.format == "PNG"
    assert image.size == (512, 512)
    assert image.mode == "RGBA"
    assert image.getpixel((2, 2))[3] == 0
    # Inside the inner hexagon, clear of text: the badge colour, which the SVG names as a fill too.
    colour = accent_colour("a-7")
    assert image.getpixel((110, 250))[:3] == tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    assert f'fill="{colour}"'.encode() in artwork_svg("a-7", "SQL", "UMCS")


def test_png_size_can_be_chosen() -> None:
    assert Image.open(io.BytesIO(artwork_png("a-1", "SQL", "UMCS", size=128))).size == (128, 128)


def test_generated_svg_survives_the_upload_sanitiser() -> None:
    svg = artwork_svg("a-1", "Zażółć <gęślą>", "Фундація")

    media_type, cleaned = clean_image(svg, "image/svg+xml")

    assert media_type == "image/svg+xml"
    assert texts(cleaned) == texts(svg)
    assert len(list(defusedxml.ElementTree.fromstring(cleaned).iter(f"{SVG}polygon"))) == svg.count(b"<polygon")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Analiza danych w Excelu", "Analiza danych w\u00a0Excelu"),
        ("Komunikacja i współpraca w zespole", "Komunikacja i\u00a0współpraca w\u00a0zespole"),
        ("a i o", "a\u00a0i\u00a0o"),
        ("SQL", "SQL"),
    ],
)
def test_one_letter_words_stay_with_the_next_word(text: str, expected: str) -> None:
    assert keep_short_words(text) == expected


def test_plain_text_folds_whitespace() -> None:
    assert plain_text("  Kurs \n\t BHP\u00a0 ") == "Kurs BHP"


def test_cut_lines_fit_the_width_and_prefer_whole_words() -> None:
    lines = cut_lines(LONG_NAME, 26, True, 330, 2)

    assert len(lines) == 2
    assert all(text_width(line, 26, True) <= 330 for line in lines)
    shown = " ".join(lines).removesuffix("…")
    assert LONG_NAME.startswith(shown)
    assert LONG_NAME[len(shown)] in " :"  # cut between two words, the colon after the last one dropped
