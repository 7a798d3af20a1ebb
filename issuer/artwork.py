"""The generated badge artwork, as SVG and PNG, for achievements that bring no image of their own.

A hexagonal badge in a colour chosen from the achievement id, the achievement's name on up to three lines, the
provider's name, and the programme's banner. One layout (:func:`_layout`) feeds both renderers, so the SVG and
the PNG cannot drift apart; text is measured with the vendored DejaVu Sans, so line breaks are the same on
every machine. Images that providers upload instead are checked by :mod:`issuer.uploaded_images`.
"""

from __future__ import annotations

import colorsys
import functools
import io
import math
import re
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from issuer import fonts

SIZE = 512
"""The artwork's side, in SVG user units and in PNG pixels by default."""
PROGRAMME_MARK = "Kompetencje jutra · Lublin"
"""The programme's mark on every generated badge; a provider cannot change it."""

PALETTE = (
    "#1F4E9A",  # blue
    "#0B6E4F",  # green
    "#7A1F5C",  # plum
    "#A83A1B",  # rust
    "#5B3FA6",  # violet
    "#00606B",  # teal
    "#875700",  # bronze
    "#A1224A",  # raspberry
    "#2F5D1E",  # forest
    "#3A4A5C",  # slate
)
"""Badge colours, each dark enough for white text at WCAG AA (contrast ≥ 4.5:1)."""

_NAME_WIDTH = 330
_PROVIDER_WIDTH = 300
_LONE_LETTER = re.compile(r"(?<!\S)(\w) ")
_SUPERSAMPLE = 4  # Pillow draws polygons without anti-aliasing: draw 4× larger, then scale down
_FONT_STACK = "'DejaVu Sans', 'Noto Sans', 'Segoe UI', Arial, sans-serif"
_WHITE = "#FFFFFF"

Point = tuple[float, float]


@dataclass(frozen=True)
class _Shape:
    points: tuple[Point, ...]
    fill: str


@dataclass(frozen=True)
class _Text:
    text: str
    x: float
    baseline: float
    size: int
    bold: bool
    fill: str


@dataclass(frozen=True)
class _Layout:
    title: str
    shapes: tuple[_Shape, ...]
    texts: tuple[_Text, ...]


def accent_colour(achievement_id: str) -> str:
    """The badge colour of an achievement (``#RRGGBB``): always the same for the same id."""
    return PALETTE[zlib.crc32(achievement_id.encode("utf-8")) % len(PALETTE)]


def _mix(colour: str, other: str, share: float) -> str:
    """``colour`` with ``share`` of ``other`` mixed in (both ``#RRGGBB``)."""
    a = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02X}" for x, y in zip(a, b, strict=True))


def _darker(colour: str, factor: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    rgb = colorsys.hls_to_rgb(hue, lightness * factor, saturation)
    return "#" + "".join(f"{round(channel * 255):02X}" for channel in rgb)


@functools.lru_cache(maxsize=64)
def font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (bold or regular) at ``size`` pixels, for drawing and measuring."""
    return ImageFont.truetype(str(fonts.BOLD if bold else fonts.REGULAR), size)


def text_width(text: str, size: int, bold: bool) -> float:
    """The advance width of ``text`` in DejaVu Sans at ``size``, measured at the supersampled size for precision."""
    return font(bold, size * _SUPERSAMPLE).getlength(text) / _SUPERSAMPLE


def plain_text(text: str) -> str:
    """``text`` on one line: whitespace runs become one space, and characters XML cannot carry are dropped."""
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or (char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF and char not in "\ufffe\uffff")
    )
    return " ".join(kept.split())


def ellipsize(text: str, size: int, bold: bool, width: float) -> str:
    """``text`` ended with an ellipsis within ``width``: whole words are dropped first, letters only when a single
    word is left that is still too long."""
    words = text.split(" ")
    while len(words) > 1 and text_width(" ".join(words) + "…", size, bold) > width:
        words.pop()
    text = " ".join(words).rstrip(" ,;:-–—")
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text + "…"


def keep_short_words(text: str) -> str:
    """Join each one-letter word to the next with a no-break space: Polish typography leaves no "w" or "i"
    hanging at the end of a line."""
    return _LONE_LETTER.sub("\\1\u00a0", text)


def wrap(text: str, size: int, bold: bool, width: float) -> list[str]:
    """Break ``text`` into lines that fit ``width``, at spaces; a word too long for a line is split."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width(word, size, bold) > width:
            cut = len(word) - 1
            while cut > 1 and text_width(word[:cut], size, bold) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def fit_lines(
    text: str, sizes: tuple[int, ...], bold: bool, width: float, max_lines: int
) -> tuple[int, list[str]] | None:
    """The largest of ``sizes`` at which ``text`` fits ``width`` in at most ``max_lines`` lines, with the lines;
    ``None`` when it fits at none of them."""
    for size in sizes:
        lines = wrap(text, size, bold, width)
        if len(lines) <= max_lines:
            return size, lines
    return None


def cut_lines(text: str, size: int, bold: bool, width: float, max_lines: int) -> list[str]:
    """``text`` in at most ``max_lines`` lines, the last one ending with an ellipsis when the text goes on."""
    lines = wrap(text, size, bold, width)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    kept[-1] = ellipsize(f"{kept[-1]} {lines[max_lines]}", size, bold, width)
    return kept


def _hexagon(radius: float, centre: Point = (SIZE / 2, SIZE / 2)) -> tuple[Point, ...]:
    """A hexagon standing on a point, of circumradius ``radius``."""
    cx, cy = centre
    return tuple(
        (cx + radius * math.cos(math.radians(angle)), cy + radius * math.sin(math.radians(angle)))
        for angle in range(-90, 270, 60)
    )


def _star(centre: Point, outer: float, inner: float) -> tuple[Point, ...]:
    cx, cy = centre
    points = []
    for index in range(10):
        radius = outer if index % 2 == 0 else inner
        angle = math.radians(-90 + index * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return tuple(points)


def _layout(achievement_id: str, achievement_name: str, provider_name: str) -> _Layout:
    base = accent_colour(achievement_id)
    dark = _darker(base, 0.62)
    light = _mix(base, _WHITE, 0.55)
    paper = "#FFF8E8"
    tail = _mix(paper, base, 0.35)
    shapes = [
        _Shape(_hexagon(250), dark),
        _Shape(_hexagon(236), base),
        _Shape(_hexagon(220), light),
        _Shape(_hexagon(215), base),
        _Shape(_star((SIZE / 2, 112), 26, 10.5), light),
        # The banner: two notched tails folded behind the band, then the band itself.
        _Shape(((14, 376), (74, 376), (74, 422), (14, 422), (32, 399)), tail),
        _Shape(((498, 376), (438, 376), (438, 422), (498, 422), (480, 399)), tail),
        _Shape(((56, 360), (456, 360), (456, 410), (56, 410)), paper),
    ]
    texts = [_Text(PROGRAMME_MARK, SIZE / 2, 392, 19, True, dark)]

    provider = keep_short_words(plain_text(provider_name))
    provider_size, provider_lines = (
        fit_lines(provider, (21, 19), False, _PROVIDER_WIDTH, 1)
        or fit_lines(provider, (18,), False, _PROVIDER_WIDTH, 2)
        or (17, cut_lines(provider, 17, False, _PROVIDER_WIDTH, 2))
    )
    leading = round(provider_size * 1.2)
    provider_top = 342 - max(len(provider_lines) - 1, 0) * leading
    for number, line in enumerate(provider_lines):
        baseline = provider_top + number * leading
        texts.append(_Text(line, SIZE / 2, baseline, provider_size, False, _mix(_WHITE, base, 0.12)))
    rule_y = provider_top - provider_size - 14
    shapes.append(_Shape(((226, rule_y), (286, rule_y), (286, rule_y + 3), (226, rule_y + 3)), light))

    name = keep_short_words(plain_text(achievement_name)) or "—"
    name_size, name_lines = (
        fit_lines(name, (46, 42, 38, 35, 32), True, _NAME_WIDTH, 2)
        or fit_lines(name, (32, 30, 28, 26), True, _NAME_WIDTH, 3)
        or (26, cut_lines(name, 26, True, _NAME_WIDTH, 3))
    )
    leading = round(name_size * 1.18)
    cap_height = name_size * 0.73
    block = (len(name_lines) - 1) * leading + cap_height
    name_top = (146 + rule_y - 14) / 2 - block / 2 + cap_height  # centred between the star and the rule
    for number, line in enumerate(name_lines):
        texts.append(_Text(line, SIZE / 2, name_top + number * leading, name_size, True, _WHITE))
    return _Layout(f"{plain_text(achievement_name)} — {plain_text(provider_name)}", tuple(shapes), tuple(texts))


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@functools.lru_cache(maxsize=256)
def artwork_svg(achievement_id: str, achievement_name: str, provider_name: str) -> bytes:
    """The generated badge as a standalone SVG document (UTF-8), every text XML-escaped."""
    layout = _layout(achievement_id, achievement_name, provider_name)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        'role="img" aria-labelledby="badge-title">',
        f'<title id="badge-title">{escape(layout.title)}</title>',
    ]
    for shape in layout.shapes:
        points = " ".join(f"{_number(x)},{_number(y)}" for x, y in shape.points)
        parts.append(f'<polygon points="{points}" fill="{shape.fill}"/>')
    parts.append(f'<g font-family="{_FONT_STACK}" text-anchor="middle">')
    for text in layout.texts:
        weight = ' font-weight="700"' if text.bold else ""
        parts.append(
            f'<text x="{_number(text.x)}" y="{_number(text.baseline)}" font-size="{text.size}"{weight} '
            f'fill="{text.fill}">{escape(text.text)}</text>'
        )
    parts.append("</g></svg>")
    return "\n".join(parts).encode("utf-8")


def artwork_image(achievement_id: str, achievement_name: str, provider_name: str, size: int = SIZE) -> Image.Image:
    """The generated badge as an RGBA Pillow image of ``size`` × ``size`` pixels (16 to 2048), transparent around
    the badge. Raises ``ValueError`` for another size."""
    if not 16 <= size <= 2048:
        raise ValueError(f"an artwork is drawn at 16 to 2048 pixels, not {size}")
    layout = _layout(achievement_id, achievement_name, provider_name)
    scale = size * _SUPERSAMPLE / SIZE
    canvas = Image.new("RGBA", (size * _SUPERSAMPLE,) * 2, (255, 255, 255, 0))
    draw = ImageDraw.Draw(canvas)
    for shape in layout.shapes:
        draw.polygon([(x * scale, y * scale) for x, y in shape.points], fill=shape.fill)
    for text in layout.texts:
        face = font(text.bold, round(text.size * scale))
        draw.text((text.x * scale, text.baseline * scale), text.text, font=face, fill=text.fill, anchor="ms")
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


@functools.lru_cache(maxsize=256)
def artwork_png(achievement_id: str, achievement_name: str, provider_name: str, size: int = SIZE) -> bytes:
    """The generated badge as a PNG of ``size`` × ``size`` pixels (the same drawing as :func:`artwork_svg`)."""
    buffer = io.BytesIO()
    artwork_image(achievement_id, achievement_name, provider_name, size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
