"""The PDF certificate a learner downloads: one printable A4 page in Polish, English or Ukrainian.

It shows the badge, the learner, the achievement with its EU micro-credential elements, the provider, the dates,
the status on the day it was made, and the QR code of the verify link. The signed credential itself travels
inside as the attachment ``credential.jwt``, so a verifier handed the PDF checks the signature, not the print.
DejaVu Sans is embedded (subset), so Polish and Ukrainian letters print and can be copied out. The learner's
e-mail never appears: :class:`CertificateContent` has no place for it.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from credentials import ob3
from credentials.eu_elements import EuElement, eu_elements
from http_edge.language import LOCAL_TIME_ZONE
from issuer import fonts
from issuer.artwork import PROGRAMME_MARK
from issuer.certificate_words import LABELS, long_date
from issuer.qr import qr_png

ATTACHMENT_NAME = "credential.jwt"
"""The name of the embedded compact JWS; the verifier looks for exactly this name in an uploaded PDF."""
ATTACHMENT_TYPE = "application/jwt"
PROGRAMME = "Kompetencje jutra – Lublin inspiruje przyszłość"

Language = Literal["pl", "en", "uk"]

# fpdf2 subsets the font through fontTools, which logs every glyph it keeps at INFO: the letters of the learner's
# name, in every certificate. Nothing in those lines is worth a log entry.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


@dataclass(frozen=True)
class CertificateStatus:
    """The credential's status on the day the certificate is made; ``since`` and ``reason`` for expired and
    revoked ones (``reason`` as the provider gave it)."""

    state: Literal["valid", "expired", "revoked"]
    as_of: date
    since: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CertificateContent:
    """Everything a certificate shows. ``badge_png`` is a PNG (the achievement's own PNG image, or
    :func:`issuer.artwork.artwork_png`); ``jws`` is the compact credential that is attached."""

    lang: Language
    learner_name: str
    achievement_name: str
    description: str
    criteria: str | None
    provider_name: str
    issued_on: date
    valid_until: date | None
    eu_elements: tuple[EuElement, ...]
    status: CertificateStatus
    verify_url: str
    jws: str
    badge_png: bytes


def content_from_credential(
    credential: Mapping[str, Any],
    *,
    lang: Language,
    status: CertificateStatus,
    verify_url: str,
    jws: str,
    badge_png: bytes,
) -> CertificateContent:
    """Read a certificate's content from an issued credential (the JSON the issuer signed). Dates are days in
    Lublin. Raises ``ValueError`` when the credential has no achievement name, no ``validFrom``, or a date that
    cannot be read."""
    summary = ob3.summarize(credential)
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    achievement = achievement if isinstance(achievement, Mapping) else {}
    criteria = achievement.get("criteria")
    narrative = criteria.get("narrative") if isinstance(criteria, Mapping) else None
    valid_from, valid_until = ob3.validity_window(credential)
    if valid_from is None or not summary["achievement"]["name"]:
        raise ValueError("the credential has no achievement name or no validFrom")
    awarded = summary["awardedDate"]
    issued = ob3.parse_datetime(awarded) if awarded else valid_from
    return CertificateContent(
        lang=lang,
        learner_name=summary["learner"]["name"] or "",
        achievement_name=summary["achievement"]["name"],
        description=summary["achievement"]["description"] or "",
        criteria=narrative if isinstance(narrative, str) else None,
        provider_name=summary["issuer"]["name"] or "",
        issued_on=issued.astimezone(LOCAL_TIME_ZONE).date(),
        valid_until=valid_until.astimezone(LOCAL_TIME_ZONE).date() if valid_until else None,
        eu_elements=tuple(eu_elements(achievement)),
        status=status,
        verify_url=verify_url,
        jws=jws,
        badge_png=badge_png,
    )


_FONT = "DejaVu"
_MARGIN = 18.0
_WIDTH = 210.0 - 2 * _MARGIN
_PAGE_HEIGHT = 297.0
_FOOT = 68.0
"""Millimetres kept free at the foot of every page: the verification panel (first page) and the programme line."""
_NAVY = (27, 42, 74)
_INK = (33, 37, 41)
_MUTED = (92, 99, 112)
_RULE = (208, 213, 222)
_PANEL = (242, 244, 248)
_STATE_COLOURS = {"valid": (11, 110, 79), "expired": (135, 87, 0), "revoked": (161, 34, 74)}
_LABEL = FontFace(family=_FONT, emphasis="", size_pt=8, color=_MUTED)
_VALUE = FontFace(family=_FONT, emphasis="", size_pt=8.5, color=_INK)
_FACT = FontFace(family=_FONT, emphasis="BOLD", size_pt=9.5, color=_INK)


class _Certificate(FPDF):
    def __init__(self, content: CertificateContent) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.content = content
        self.words = LABELS[content.lang]

    def footer(self) -> None:
        # The foot is drawn inside the margin that auto page breaks keep free, so it can never break a page.
        self.set_auto_page_break(False)
        if self.page_no() == 1:
            _verification_panel(self)
        self.set_fill_color(*_NAVY)
        self.rect(0, _PAGE_HEIGHT - 4, 210, 4, style="F")
        self.set_xy(_MARGIN, _PAGE_HEIGHT - 12)
        self.set_font(_FONT, "", 7.5)
        self.set_text_color(*_MUTED)
        self.cell(_WIDTH, 4, PROGRAMME, align="C")
        self.set_auto_page_break(True, margin=_FOOT)


@functools.lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """The characters both embedded faces can draw."""
    covered: set[int] | None = None
    for path in (fonts.REGULAR, fonts.BOLD):
        with TTFont(path, lazy=True) as face:
            characters = set(face.getBestCmap())
        covered = characters if covered is None else covered & characters
    return frozenset(covered or ())


def printable(text: str) -> str:
    """``text`` as the embedded font prints it: line breaks kept, other whitespace a space, control and format
    characters dropped (bidi overrides too: they can make a printed name read backwards), and a character the font
    has no glyph for (an emoji, a Chinese name) shown as "�" rather than as an empty box."""
    glyphs = _glyphs()
    kept = []
    for char in text:
        if char == "\n":
            kept.append(char)
        elif char.isspace():
            kept.append(" ")
        elif char.isprintable():
            kept.append(char if ord(char) in glyphs else "\ufffd")
    return "".join(kept)


def _printable_content(content: CertificateContent) -> CertificateContent:
    status = content.status
    return dataclasses.replace(
        content,
        learner_name=printable(content.learner_name),
        achievement_name=printable(content.achievement_name),
        description=printable(content.description),
        criteria=printable(content.criteria) if content.criteria else None,
        provider_name=printable(content.provider_name),
        eu_elements=tuple(
            EuElement(element.key, tuple(printable(value) for value in element.values))
            for element in content.eu_elements
        ),
        status=dataclasses.replace(status, reason=printable(status.reason) if status.reason else None),
    )


def certificate_pdf(content: CertificateContent) -> bytes:
    """The certificate as PDF bytes: A4 portrait, fonts embedded, ``credential.jwt`` attached, title = the
    achievement's name. Text is passed through :func:`printable`. Raises
    :class:`issuer.errors.ConfigurationError` when the verify link is too long for a readable QR code."""
    content = _printable_content(content)
    pdf = _Certificate(content)
    words = pdf.words
    pdf.add_font(_FONT, "", str(fonts.REGULAR))
    pdf.add_font(_FONT, "B", str(fonts.BOLD))
    pdf.set_title(content.achievement_name)
    pdf.set_author(content.provider_name)
    pdf.set_subject(f"{words['certificate']} · {PROGRAMME}")
    pdf.set_creator("Odznaka")
    pdf.set_lang(content.lang)
    pdf.set_margins(_MARGIN, 12, _MARGIN)
    pdf.set_auto_page_break(True, margin=_FOOT)
    pdf.add_page()
    _heading(pdf)
    _details(pdf)
    pdf.embed_file(
        bytes=content.jws.encode("ascii"),
        basename=ATTACHMENT_NAME,
        mime_type=ATTACHMENT_TYPE,
        desc="Open Badges 3.0 credential, compact JWS (VC-JWT)",
    )
    return bytes(pdf.output())


def _heading(pdf: _Certificate) -> None:
    content, words = pdf.content, pdf.words
    pdf.set_fill_color(*_NAVY)
    pdf.rect(0, 0, 210, 5, style="F")
    pdf.set_y(11)
    pdf.set_font(_FONT, "B", 8)
    pdf.set_text_color(*_NAVY)
    pdf.cell(_WIDTH, 5, PROGRAMME_MARK.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    badge = 30.0
    pdf.image(
        io.BytesIO(content.badge_png),
        x=(210 - badge) / 2,
        y=pdf.get_y() + 3,
        w=badge,
        h=badge,
        keep_aspect_ratio=True,
        alt_text=content.achievement_name,
    )
    pdf.set_y(pdf.get_y() + badge + 5)
    _centred(pdf, words["certificate"], 26, bold=True, colour=_NAVY, height=11)
    _centred(pdf, words["certifies"], 10, colour=_MUTED, height=6)
    _centred(pdf, content.learner_name or "—", 20, bold=True, colour=_INK, height=10)
    _centred(pdf, words["awarded"], 10, colour=_MUTED, height=6)
    _centred(pdf, content.achievement_name, 15, bold=True, colour=_NAVY, height=7)
    if content.description:
        pdf.ln(2)
        pdf.set_font(_FONT, "", 9.5)
        pdf.set_text_color(*_INK)
        align = "C" if len(content.description) <= 300 else "J"
        pdf.multi_cell(150, 4.6, content.description, align=align, center=True, new_x="LMARGIN", new_y="NEXT")


def _centred(
    pdf: FPDF, text: str, size: float, *, colour: tuple[int, int, int], height: float, bold: bool = False
) -> None:
    pdf.set_font(_FONT, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(_WIDTH, height, text, align="C", new_x="LMARGIN", new_y="NEXT")


_FACTS = ("ects", "workload_hours", "eqf_level", "prk_level", "participation")
"""EU elements with a short value, shown side by side; the others get a row each."""


def _element_value(element: EuElement, words: dict[str, str]) -> str:
    if element.key == "learning_outcomes":
        return "\n".join(f"• {outcome}" for outcome in element.values)
    value = element.values[0]
    if element.key == "workload_hours":
        return words["hours"].format(value=value)
    if element.key == "participation" and value in ("online", "onsite", "blended"):
        return words[value]
    return value


def _facts(pdf: FPDF, facts: list[tuple[str, str]]) -> None:
    """Short label/value pairs side by side: labels on one line, values in bold under them."""
    with pdf.table(
        width=_WIDTH,
        borders_layout="NONE",
        first_row_as_headings=True,
        headings_style=_LABEL,
        line_height=4,
        text_align="LEFT",
        v_align="TOP",
        padding=(0.6, 2, 0.6, 0),
    ) as table:
        labels = table.row()
        for label, _ in facts:
            labels.cell(label)
        values = table.row()
        for _, value in facts:
            values.cell(value, style=_FACT)


def _rows(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    """Label/value rows, the label in a narrow column on the left."""
    with pdf.table(
        col_widths=(46, _WIDTH - 46),
        width=_WIDTH,
        borders_layout="NONE",
        first_row_as_headings=False,
        line_height=4,
        text_align=("LEFT", "LEFT"),
        v_align="TOP",
        padding=(0.9, 1, 0.9, 0),
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=_LABEL)
            row.cell(value, style=_VALUE)


def _rule(pdf: FPDF, gap: float = 2.5) -> None:
    pdf.ln(gap)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.25)
    pdf.line(_MARGIN, pdf.get_y(), _MARGIN + _WIDTH, pdf.get_y())
    pdf.ln(gap)


def _details(pdf: _Certificate) -> None:
    content, words = pdf.content, pdf.words
    pdf.set_fill_color(255, 255, 255)
    until = long_date(content.valid_until, content.lang) if content.valid_until else words["no_expiry"]
    _rule(pdf)
    _facts(
        pdf,
        [
            (words["issued_by"], content.provider_name),
            (words["issued_on"], long_date(content.issued_on, content.lang)),
            (words["valid_until"], until),
        ],
    )
    if content.criteria:
        pdf.ln(1.5)
        _rows(pdf, [(words["criteria"], content.criteria)])
    if not content.eu_elements:
        return
    _rule(pdf)
    pdf.set_font(_FONT, "B", 10)
    pdf.set_text_color(*_NAVY)
    pdf.cell(_WIDTH, 5, words["eu_heading"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    facts = [(words[e.key], _element_value(e, words)) for e in content.eu_elements if e.key in _FACTS]
    if facts:
        _facts(pdf, facts)
        pdf.ln(1.5)
    rows = [(words[e.key], _element_value(e, words)) for e in content.eu_elements if e.key not in _FACTS]
    if rows:
        _rows(pdf, rows)


def _status_line(content: CertificateContent, words: dict[str, str]) -> str:
    status = content.status
    since = long_date(status.since, content.lang) if status.since else "—"
    line = words[f"status_{status.state}"].format(as_of=long_date(status.as_of, content.lang), since=since)
    line = line if line.endswith(".") else line + "."  # a date may already end with "r."
    if status.state == "revoked" and status.reason:
        line += " " + words["reason"].format(reason=status.reason)
    return line


def _verification_panel(pdf: _Certificate) -> None:
    content, words = pdf.content, pdf.words
    top = _PAGE_HEIGHT - _FOOT + 8
    pdf.set_fill_color(*_PANEL)
    pdf.rect(_MARGIN, top, _WIDTH, 46, style="F", round_corners=True, corner_radius=2.5)
    qr = 30.0
    pdf.image(io.BytesIO(qr_png(content.verify_url)), x=_MARGIN + 5, y=top + 3, w=qr, h=qr, alt_text="QR")
    pdf.set_xy(_MARGIN + 2, top + 3 + qr + 0.5)
    pdf.set_font(_FONT, "", 6)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(qr + 6, 2.5, content.verify_url, align="C", wrapmode=WrapMode.CHAR, max_line_height=2.5)
    column = _MARGIN + qr + 14
    width = _MARGIN + _WIDTH - column - 5
    pdf.set_xy(column, top + 4)
    pdf.set_font(_FONT, "B", 10)
    pdf.set_text_color(*_NAVY)
    pdf.multi_cell(width, 5, words["verify_heading"], align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(column, pdf.get_y() + 1)
    pdf.set_font(_FONT, "", 8)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(width, 3.8, words["verify_text"], align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(column, pdf.get_y() + 2.5)
    pdf.set_font(_FONT, "B", 8.5)
    pdf.set_text_color(*_STATE_COLOURS[content.status.state])
    pdf.multi_cell(width, 4, _status_line(content, words), align="L", new_x="LEFT", new_y="NEXT")
