"""The Open Graph card: the 1200×630 picture LinkedIn, Facebook and messengers show when a credential's link is
shared.

It shows the badge, the achievement, the provider, the date of issue and the programme. It does not show the
learner: the card is fetched and cached by every platform the link passes through, where the learner cannot take
it back, and a post sharing the link already comes from the learner's own profile. The name stays on the
credential page, which the learner controls.
"""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw, ImageOps

from issuer.artwork import (
    PROGRAMME_MARK,
    accent_colour,
    artwork_image,
    cut_lines,
    fit_lines,
    font,
    keep_short_words,
    plain_text,
)
from issuer.certificate import PROGRAMME
from issuer.certificate_words import LABELS, long_date

WIDTH, HEIGHT = 1200, 630
_BADGE = 420
_PANEL = 520
_TEXT_LEFT = _PANEL + 56
_TEXT_WIDTH = WIDTH - _TEXT_LEFT - 64
_BAND = 64
_PAPER = "#FFFFFF"
_INK = "#1B2A4A"
_MUTED = "#5C6370"


def _tint(colour: str, share_of_white: float) -> str:
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * share_of_white):02X}" for c in channels)


def _badge(achievement_id: str, achievement_name: str, provider_name: str, badge_png: bytes | None) -> Image.Image:
    if badge_png is None:
        return artwork_image(achievement_id, achievement_name, provider_name, _BADGE)
    with Image.open(io.BytesIO(badge_png), formats=["PNG"]) as uploaded:
        return ImageOps.contain(uploaded.convert("RGBA"), (_BADGE, _BADGE), Image.Resampling.LANCZOS)


def og_card_png(
    *,
    achievement_id: str,
    achievement_name: str,
    provider_name: str,
    issued_on: date,
    lang: str,
    badge_png: bytes | None = None,
) -> bytes:
    """The share card as a 1200×630 PNG. ``badge_png`` is the achievement's own image when it has a PNG one (as
    :func:`issuer.uploaded_images.clean_image` stored it); without it the generated artwork is drawn."""
    accent = accent_colour(achievement_id)
    card = Image.new("RGBA", (WIDTH, HEIGHT), _PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, _PANEL, HEIGHT - _BAND), fill=_tint(accent, 0.88))
    draw.rectangle((0, 0, WIDTH, 8), fill=accent)

    badge = _badge(achievement_id, achievement_name, provider_name, badge_png)
    top = (HEIGHT - _BAND - badge.height) // 2 + 4
    card.alpha_composite(badge, ((_PANEL - badge.width) // 2, top))

    # Each line with its distance from the baseline above it, so that the block can be centred as a whole.
    lines: list[tuple[str, int, bool, str, float]] = [(PROGRAMME_MARK.upper(), 22, True, accent, 22)]
    name = keep_short_words(plain_text(achievement_name)) or "—"
    size, name_lines = fit_lines(name, (60, 54, 48), True, _TEXT_WIDTH, 2) or (
        42,
        cut_lines(name, 42, True, _TEXT_WIDTH, 3),
    )
    for number, line in enumerate(name_lines):
        lines.append((line, size, True, _INK, size * (1.16 if number else 1.9)))
    provider = keep_short_words(plain_text(provider_name))
    for number, line in enumerate(cut_lines(provider, 30, False, _TEXT_WIDTH, 2)):
        lines.append((line, 30, False, _MUTED, 38 if number else 64))
    issued = f"{LABELS[lang]['issued_on']}: {long_date(issued_on, lang)}"
    lines.append((issued, 26, False, _MUTED, 58))
    baseline = (HEIGHT - _BAND - sum(advance for *_, advance in lines)) / 2 - 4
    for text, text_size, bold, colour, advance in lines:
        baseline += advance
        draw.text((_TEXT_LEFT, baseline), text, font=font(bold, text_size), fill=colour, anchor="ls")

    draw.rectangle((0, HEIGHT - _BAND, WIDTH, HEIGHT), fill=_INK)
    draw.text((48, HEIGHT - _BAND / 2), PROGRAMME, font=font(True, 24), fill="#FFFFFF", anchor="lm")
    draw.text((WIDTH - 48, HEIGHT - _BAND / 2), "Open Badges 3.0", font=font(False, 20), fill="#C9D1E0", anchor="rm")

    buffer = io.BytesIO()
    card.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
