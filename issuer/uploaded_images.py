"""Achievement images that providers upload: PNG, JPEG or SVG, checked and rebuilt before anyone sees them.

Every accepted image is re-created rather than passed through: rasters are decoded and encoded again as PNG by
Pillow, which drops metadata and anything appended to the file (a polyglot that is also HTML or a ZIP), and an SVG
is parsed and re-serialised from an allow-list of elements and attributes. The image is shown on public pages and
baked into credentials, so anything that could run script or fetch from elsewhere must not survive.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # builds and serialises the cleaned tree; parsing goes through defusedxml
from typing import Literal

import defusedxml.ElementTree
from defusedxml import DefusedXmlException
from PIL import Image, ImageOps

from issuer.errors import InvalidInput

MAX_BYTES = 1024 * 1024
MAX_SIDE = 4096
MIN_SIDE = 64
"""The pixel limits hold for PNG and JPEG; an SVG has no pixels and is bounded by its element counts instead."""
MAX_ASPECT = 2.0
"""Wider than 2:1 either way is refused: the image is shown in a square and would be a thin strip in it."""
STORED_SIDE = 1024
"""Larger rasters are scaled down to this: pages show a badge at 512 pixels at most, so 1024 is sharp on any screen."""
MAX_SVG_ELEMENTS = 5000
MAX_SVG_DEPTH = 48
MAX_SVG_RENDERED = 20_000
"""Elements after ``<use>`` is expanded: bounds what a viewer has to draw."""

Kind = Literal["png", "jpeg", "svg"]
_WITH_ARTICLE: dict[Kind, str] = {"png": "a PNG", "jpeg": "a JPEG", "svg": "an SVG"}
_DECLARED: dict[str, Kind | None] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/svg+xml": "svg",
    "application/octet-stream": None,  # says nothing: the content decides
    "": None,
}

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Drawing, text, paint servers, grouping and simple filters. Not here, so dropped with their content: script,
# foreignObject, a, image, feImage, animate/set (they can rewrite an href to javascript:), iframe, style sheets
# from outside, and everything in a non-SVG namespace (editor metadata).
ELEMENTS = _names(
    "svg g defs symbol use switch title desc path rect circle ellipse line polyline polygon text tspan textPath "
    "linearGradient radialGradient stop pattern clipPath mask marker style filter feBlend feColorMatrix "
    "feComponentTransfer feComposite feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR feGaussianBlur feMerge "
    "feMergeNode feMorphology feOffset"
)
_TEXT_ELEMENTS = frozenset({"title", "desc", "text", "tspan", "textPath", "style"})

# Presentation properties: allowed as attributes and inside style="…" and <style>.
PROPERTIES = _names(
    "clip-path clip-rule color color-interpolation-filters display dominant-baseline fill fill-opacity fill-rule "
    "filter flood-color flood-opacity font-family font-size font-stretch font-style font-variant font-weight "
    "letter-spacing lighting-color marker-end marker-mid marker-start mask opacity overflow paint-order "
    "shape-rendering stop-color stop-opacity stroke stroke-dasharray stroke-dashoffset stroke-linecap "
    "stroke-linejoin stroke-miterlimit stroke-opacity stroke-width text-anchor text-decoration text-rendering "
    "transform transform-origin vector-effect visibility word-spacing mix-blend-mode isolation"
)
ATTRIBUTES = PROPERTIES | _names(
    "id class style x y x1 y1 x2 y2 cx cy r rx ry fx fy fr dx dy d points width height viewBox "
    "preserveAspectRatio version offset gradientUnits gradientTransform spreadMethod patternUnits "
    "patternContentUnits patternTransform clipPathUnits maskUnits maskContentUnits filterUnits primitiveUnits "
    "markerUnits markerWidth markerHeight refX refY orient textLength lengthAdjust startOffset in in2 result mode "
    "operator k1 k2 k3 k4 values type tableValues slope intercept amplitude exponent stdDeviation radius "
    "requiredFeatures systemLanguage role aria-label aria-labelledby aria-describedby xml:space href "
    "xlink:href"
)
_CSS_FUNCTIONS = frozenset(
    {"url", "rgb", "rgba", "hsl", "hsla", "matrix", "translate", "scale", "rotate", "skewx", "skewy"}
)
_FUNCTION = re.compile(r"([a-zA-Z-]+)\(")
_URL_ARGUMENT = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_AT_STATEMENT = re.compile(r"@[^;{}]*;")
_CSS_RULE = re.compile(r"\s*([^{}]+?)\s*\{([^{}]*)\}")
_SELECTOR = re.compile(r"[\w\s.#,>*:+~-]+")


def clean_image(data: bytes, declared_type: str | None) -> tuple[str, bytes]:
    """Check an uploaded achievement image and rebuild it. Returns ``(media_type, data)``: ``image/png`` for PNG
    and JPEG uploads (re-encoded; scaled down to :data:`STORED_SIDE` when larger) or ``image/svg+xml`` (sanitised).

    The content decides what the file is; a ``declared_type`` that names another format is refused. Raises
    :class:`InvalidInput` with a ``fields`` entry for ``image`` when the file is too large, not one of the three
    formats, unreadable, too small or large in pixels, or an SVG that declares entities.
    """
    if len(data) > MAX_BYTES:
        raise _refused(f"The image is {len(data)} bytes; at most {MAX_BYTES} (1 MiB) are accepted.")
    kind = _sniff(data)
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _DECLARED:
        raise _refused(f"Images of type {declared[:60]} are not accepted; send PNG, JPEG or SVG.")
    if kind is None:
        raise _refused("The file is not a PNG, JPEG or SVG image.")
    if _DECLARED[declared] not in (None, kind):
        raise _refused(f"The file was sent as {declared} but is {_WITH_ARTICLE[kind]} image.")
    if kind == "svg":
        return "image/svg+xml", clean_svg(data)
    return "image/png", _clean_raster(data, kind)


def _refused(message: str) -> InvalidInput:
    return InvalidInput("The image cannot be used.", fields=[{"field": "image", "message": message}])


def _sniff(data: bytes) -> Kind | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        return "svg"  # a candidate only: the parser and the root element decide
    return None


def _clean_raster(data: bytes, kind: Kind) -> bytes:
    try:
        # Image.open reads the header only; the size is checked before any pixel is decoded, so a small file
        # that inflates to gigabytes (a decompression bomb) never is.
        with Image.open(io.BytesIO(data), formats=[kind.upper()]) as image:
            _check_size(*image.size)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except InvalidInput:
        raise
    except Image.DecompressionBombError as exc:
        raise _refused(f"The image is too large in pixels; at most {MAX_SIDE}×{MAX_SIDE} are accepted.") from exc
    except Exception as exc:
        # A damaged file can make a decoder fail in many ways (OSError, SyntaxError, struct.error, …): each one
        # means the upload is unusable, never a server error.
        raise _refused(f"The file cannot be read as a {kind.upper()} image.") from exc
    if upright.mode not in ("RGB", "RGBA"):
        transparent = upright.mode in ("LA", "La", "PA", "RGBa") or "transparency" in upright.info
        upright = upright.convert("RGBA" if transparent else "RGB")
    if max(upright.size) > STORED_SIDE:
        upright.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    while True:
        buffer = io.BytesIO()
        upright.save(buffer, format="PNG")  # no metadata is carried over: only the pixels
        if buffer.tell() <= MAX_BYTES or max(upright.size) <= 256:
            return buffer.getvalue()
        # Photographic noise compresses badly as PNG; a smaller copy keeps the stored image within the limit.
        upright.thumbnail((max(upright.size) // 2,) * 2, Image.Resampling.LANCZOS)


def _check_size(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise _refused(f"The image is {width}×{height} pixels; at most {MAX_SIDE}×{MAX_SIDE} are accepted.")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise _refused(f"The image is {width}×{height} pixels; at least {MIN_SIDE}×{MIN_SIDE} are needed.")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise _refused(f"The image is {width}×{height} pixels; a square image (at most 2:1) is needed.")


def clean_svg(data: bytes) -> bytes:
    """The SVG rebuilt from its allowed elements and attributes (UTF-8). Raises :class:`InvalidInput`."""
    try:
        # A bare DOCTYPE is allowed (editors still write the SVG 1.1 one; expat never fetches it), but any entity
        # declaration is refused: that stops billion-laughs expansion and external entities (local files, URLs).
        root = defusedxml.ElementTree.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _refused("The SVG declares entities, which are not accepted.") from exc
    except ET.ParseError as exc:
        raise _refused("The SVG is not well-formed XML.") from exc
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise _refused("The file is XML but not an SVG image.")
    plain = root.tag == "svg"  # written without the SVG namespace: its unqualified elements count as SVG
    if sum(1 for _ in root.iter()) > MAX_SVG_ELEMENTS:
        raise _refused(f"The SVG has more than {MAX_SVG_ELEMENTS} elements.")
    clean = _element(root, plain, depth=0)
    assert clean is not None
    clean.set("xmlns", SVG_NS)
    clean.set("xmlns:xlink", XLINK_NS)
    _check_references(clean)
    return ET.tostring(clean, encoding="unicode").encode("utf-8")


def _local_name(tag: str, plain: bool) -> str | None:
    if tag.startswith(f"{{{SVG_NS}}}"):
        return tag[len(SVG_NS) + 2 :]
    if plain and not tag.startswith("{"):
        return tag
    return None


def _attribute_name(key: str) -> str:
    """``xlink:href`` and ``xml:space`` keep their usual prefixes; other namespaced names cannot match the
    allow-list."""
    return key.replace(f"{{{XLINK_NS}}}", "xlink:").replace(f"{{{XML_NS}}}", "xml:")


def _element(source: ET.Element, plain: bool, depth: int) -> ET.Element | None:
    name = _local_name(source.tag, plain) if isinstance(source.tag, str) else None
    if name not in ELEMENTS:
        return None
    if depth > MAX_SVG_DEPTH:
        raise _refused(f"The SVG nests elements more than {MAX_SVG_DEPTH} deep.")
    target = ET.Element(name)
    for key, value in source.attrib.items():
        attribute = _attribute_name(key)
        cleaned = _clean_attribute(attribute, value) if attribute in ATTRIBUTES else None
        if cleaned:
            target.set(attribute, cleaned)
    if name == "use" and not (target.get("href") or target.get("xlink:href")):
        return None  # its reference pointed outside the image and was dropped
    if name == "style":
        target.text = _clean_stylesheet(source.text or "")
        return target
    if name in _TEXT_ELEMENTS:
        target.text = source.text
    for child in source:
        kept = _element(child, plain, depth + 1)
        if kept is not None:
            kept.tail = child.tail if name in _TEXT_ELEMENTS else None
            target.append(kept)
    return target


def _clean_attribute(name: str, value: str) -> str | None:
    """The attribute's value when it is safe to keep, ``style`` rebuilt from its safe declarations; else ``None``."""
    if name in ("href", "xlink:href"):
        return value if value.startswith("#") else None  # this same image only: no javascript:, data: or files
    if name == "style":
        return _clean_declarations(value)
    if name in PROPERTIES:
        return value if _safe_value(value) else None
    return None if "url(" in value.lower() else value


def _safe_value(value: str) -> bool:
    """A CSS value that cannot fetch anything: only colour, transform and local ``url(#…)`` functions."""
    if "\\" in value or "@" in value or "<" in value:
        return False  # CSS escapes could spell a function name the checks below would not recognise
    if any(function.lower() not in _CSS_FUNCTIONS for function in _FUNCTION.findall(value)):
        return False
    return all(target.startswith("#") for target in _URL_ARGUMENT.findall(value))


def _clean_declarations(css: str) -> str:
    """The declarations of a ``style`` attribute or rule that name allowed properties with safe values."""
    kept = []
    for declaration in _CSS_COMMENT.sub("", css).split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if colon and name in PROPERTIES and _safe_value(value):
            kept.append(f"{name}:{value}")
    return ";".join(kept)


def _clean_stylesheet(css: str) -> str:
    """A ``<style>`` sheet rebuilt rule by rule; at-rules (``@import``, ``@font-face``) and odd selectors are
    dropped."""
    rules = []
    css = _AT_STATEMENT.sub("", _CSS_COMMENT.sub("", css))
    for selector, body in _CSS_RULE.findall(css):
        if "@" not in selector and _SELECTOR.fullmatch(selector):
            rules.append(f"{selector}{{{_clean_declarations(body)}}}")
    return "\n".join(rules)


def _check_references(root: ET.Element) -> None:
    """Refuse ``<use>`` chains: a ``<use>`` may point only at an element with no ``<use>`` inside, which rules out
    cycles and the exponential fan-out of nested references, and the drawing stays within
    :data:`MAX_SVG_RENDERED` elements once every reference is expanded."""
    by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
    rendered = sum(1 for _ in root.iter())
    for use in root.iter("use"):
        reference = use.get("href") or use.get("xlink:href")
        target = by_id.get(reference[1:]) if reference else None
        if target is None:
            continue
        if any(element.tag == "use" for element in target.iter()):
            raise _refused("The SVG has a <use> that refers to another <use>; nested references are not accepted.")
        rendered += sum(1 for _ in target.iter())
        if rendered > MAX_SVG_RENDERED:
            raise _refused(f"The SVG draws more than {MAX_SVG_RENDERED} elements once its references are expanded.")
