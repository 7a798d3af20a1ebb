"""The PDF certificate: one A4 page a person can read and a machine can check."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
from datetime import date
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from issuer.achievements import AchievementIn, build_achievement
from issuer.artwork import artwork_png
from issuer.certificate import (
    ATTACHMENT_NAME,
    CertificateContent,
    CertificateStatus,
    Language,
    certificate_pdf,
    content_from_credential,
    printable,
)
from issuer.certificate_words import LABELS, long_date
from issuer.models import Provider

LEARNER = "Zażółć Gęślą-Jaźń"
PROVIDER = "Centrum Kształcenia Ustawicznego w Lublinie"
ACHIEVEMENT = "Analiza danych w Excelu"
VERIFY_URL = "https://issuer.test/q/Qm3fK9xTz2Lp0aB7cD4eF1"
JWS = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0In0.c2lnbmF0dXJl"
EMAIL_HASH = "sha256$" + "ab" * 32
TODAY = date(2026, 11, 29)


def achievement() -> dict[str, Any]:
    payload = AchievementIn.model_validate(
        {
            "name": ACHIEVEMENT,
            "description": "Uczestnik przygotowuje, czyści i analizuje dane biznesowe w arkuszu kalkulacyjnym.",
            "criteria": {"narrative": "Projekt końcowy zaliczony na co najmniej 60% punktów."},
            "microCredential": {
                "learningOutcomes": ["Tworzy tabele przestawne.", "Łączy dane za pomocą Power Query."],
                "ects": 2,
                "workloadHours": 40,
                "eqfLevel": 5,
                "prkLevel": 5,
                "assessment": "Projekt praktyczny",
                "participation": "blended",
                "qualityAssurance": "Audyt zewnętrzny",
            },
        }
    )
    provider = Provider(slug="ckziu", name=PROVIDER, country="PL")
    return build_achievement(payload, provider, "https://issuer.test/achievements/3f9a")


def credential() -> dict[str, Any]:
    """Shaped as the issuer signs it: the e-mail only hashed, the name as a plain identifier."""
    return {
        "id": "urn:uuid:6f1c2a9e-0d2b-4c43-9b8e-2a7e5c1d9f00",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.test/providers/ckziu", "type": ["Profile"], "name": PROVIDER},
        "validFrom": "2026-03-11T23:30:00Z",  # already 12 March in Lublin
        "validUntil": "2028-03-12T22:59:59Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                 "identityHash": EMAIL_HASH, "salt": "pepper-salt-1"},
                {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": LEARNER},
            ],
            "achievement": achievement(),
        },
    }  # fmt: skip


def content(lang: Language = "pl", status: CertificateStatus | None = None) -> CertificateContent:
    return content_from_credential(
        credential(),
        lang=lang,
        status=status or CertificateStatus("valid", TODAY),
        verify_url=VERIFY_URL,
        jws=JWS,
        badge_png=artwork_png("3f9a", ACHIEVEMENT, PROVIDER),
    )


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """The text of every page, each run of whitespace (line breaks included) as one space."""
    return " ".join(" ".join(page.extract_text() for page in read(pdf).pages).split())


def test_one_a4_portrait_page() -> None:
    reader = read(certificate_pdf(content()))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.parametrize("lang", ["pl", "en", "uk"])
def test_text_is_extractable_with_polish_and_ukrainian_letters(lang: Language) -> None:
    words = LABELS[lang]

    text = text_of(certificate_pdf(content(lang)))

    for expected in (
        words["certificate"],
        LEARNER,
        ACHIEVEMENT,
        PROVIDER,
        long_date(date(2026, 3, 12), lang),
        long_date(date(2028, 3, 12), lang),
        words["learning_outcomes"],
        "Łączy dane za pomocą Power Query.",
        words["blended"],
        words["hours"].format(value="40"),
        words["verify_heading"],
    ):
        assert expected in text


def test_ukrainian_labels_come_out_as_ukrainian_letters() -> None:
    text = text_of(certificate_pdf(content("uk")))

    assert "Сертифікат" in text
    assert "Цим засвідчується, що" in text
    assert "Результати навчання" in text
    assert "Стан на 29 листопада 2026 р.: посвідчення чинне." in text


def test_the_verify_link_is_printed_and_its_qr_code_opens_it() -> None:
    pdf = certificate_pdf(content())

    assert VERIFY_URL in re.sub(r"\s", "", text_of(pdf))
    decoded = [
        result.text
        for image in read(pdf).pages[0].images
        for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)).convert("L"))
    ]
    assert decoded == [VERIFY_URL]


def test_the_signed_credential_is_attached_as_credential_jwt() -> None:
    reader = read(certificate_pdf(content()))

    assert reader.attachments == {ATTACHMENT_NAME: [JWS.encode("ascii")]}


def test_fonts_are_embedded_subsets_of_dejavu_sans() -> None:
    page = read(certificate_pdf(content("uk"))).pages[0]

    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert len(fonts) == 2
    for font in fonts:
        assert font["/Subtype"] == "/Type0"
        [descendant] = font["/DescendantFonts"]
        descriptor = descendant.get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVuSans(Book|Bold)", str(descriptor["/FontName"]))
        assert "/ToUnicode" in font


def test_metadata_names_the_achievement_and_the_provider() -> None:
    metadata = read(certificate_pdf(content())).metadata

    assert metadata.title == ACHIEVEMENT
    assert metadata.author == PROVIDER
    assert metadata.creator == "Odznaka"


def test_nothing_that_identifies_the_learner_beyond_the_name_is_printed() -> None:
    pdf = certificate_pdf(content())
    reader = read(pdf)
    printed = text_of(pdf) + " ".join(str(value) for value in reader.metadata.values())

    assert "@" not in printed
    assert EMAIL_HASH not in printed
    assert "pepper-salt" not in printed


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            CertificateStatus("revoked", TODAY, since=date(2026, 10, 1), reason="błąd w danych"),
            "Stan na 29 listopada 2026 r.: poświadczenie unieważnione 1 października 2026 r. Powód: błąd w danych",
        ),
        (
            CertificateStatus("expired", TODAY, since=date(2026, 3, 12)),
            "Stan na 29 listopada 2026 r.: poświadczenie wygasło 12 marca 2026 r.",
        ),
        (CertificateStatus("valid", TODAY), "Stan na 29 listopada 2026 r.: poświadczenie ważne."),
    ],
)
def test_status_line_says_what_was_true_on_the_day(status: CertificateStatus, expected: str) -> None:
    assert expected in text_of(certificate_pdf(content(status=status)))


def test_a_credential_without_expiry_says_so() -> None:
    no_expiry = dataclasses.replace(content("en"), valid_until=None)

    assert "no expiry" in text_of(certificate_pdf(no_expiry))


def test_a_long_description_continues_on_further_pages_with_nothing_lost() -> None:
    description = " ".join(f"Zdanie numer {number} opisu osiągnięcia." for number in range(160))
    long = dataclasses.replace(content(), description=description)

    pdf = certificate_pdf(long)

    pages = read(pdf).pages
    assert len(pages) > 1
    assert "Zdanie numer 0 " in text_of(pdf)
    assert "Zdanie numer 159 " in text_of(pdf)
    assert [len(page.images) for page in pages] == [2] + [0] * (len(pages) - 1)  # badge and QR on the first
    assert read(pdf).attachments == {ATTACHMENT_NAME: [JWS.encode("ascii")]}


def test_content_is_read_from_the_credential_with_dates_in_lublin() -> None:
    read_back = content()

    assert read_back.learner_name == LEARNER
    assert read_back.provider_name == PROVIDER
    assert read_back.achievement_name == ACHIEVEMENT
    assert read_back.criteria == "Projekt końcowy zaliczony na co najmniej 60% punktów."
    assert read_back.issued_on == date(2026, 3, 12)
    assert read_back.valid_until == date(2028, 3, 12)
    assert [element.key for element in read_back.eu_elements][:3] == ["learning_outcomes", "ects", "workload_hours"]


def test_a_credential_without_validfrom_is_refused() -> None:
    broken = credential()
    del broken["validFrom"]

    with pytest.raises(ValueError, match="no validFrom"):
        content_from_credential(
            broken, lang="pl", status=CertificateStatus("valid", TODAY), verify_url=VERIFY_URL, jws=JWS, badge_png=b""
        )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("pl", "1 września 2026 r."), ("en", "1 September 2026"), ("uk", "1 вересня 2026 р.")],
)
def test_long_dates(lang: str, expected: str) -> None:
    assert long_date(date(2026, 9, 1), lang) == expected


def test_text_the_font_cannot_print_is_made_printable() -> None:
    assert printable("Anna 🙂 Nowak\x00\u202e\tz\u200bLublina\r\ndruga linia") == "Anna � Nowak zLublina \ndruga linia"


def test_a_name_with_characters_outside_the_font_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with_emoji = dataclasses.replace(content(), learner_name="Anna 🙂 Nowak", description="Kurs 数据")

    with caplog.at_level(logging.INFO):
        text = text_of(certificate_pdf(with_emoji))

    assert "Anna � Nowak" in text
    assert caplog.records == []
