"""Reading the EU micro-credential elements back from an achievement, as the issuer's builder wrote them."""

from __future__ import annotations

from typing import Any

from credentials.eu_elements import KEYS, EuElement, eu_elements
from issuer.achievements import AchievementIn, build_achievement
from issuer.models import Provider

ACHIEVEMENT_URL = "https://issuer.test/achievements/3f9a"


def built(**micro_credential: Any) -> dict[str, Any]:
    payload = AchievementIn.model_validate(
        {
            "name": "Analiza danych w Excelu",
            "description": "Tabele przestawne, Power Query i raport.",
            "criteria": {"narrative": "Projekt końcowy zaliczony na co najmniej 60%."},
            "microCredential": micro_credential,
        }
    )
    return build_achievement(payload, Provider(slug="ckziu", name="CKZiU", country="PL"), ACHIEVEMENT_URL)


def test_every_element_the_builder_writes_is_read_back_in_order() -> None:
    achievement = built(
        learningOutcomes=["Tworzy tabele przestawne.", "Łączy dane z kilku źródeł."],
        ects=2.5,
        workloadHours=40,
        eqfLevel=5,
        prkLevel=5,
        assessment="Projekt praktyczny",
        participation="blended",
        qualityAssurance="ISO 9001",
        prerequisites="Podstawy arkusza",
        supervision="Egzamin nadzorowany",
        stackability="Część ścieżki „Analityk danych”",
        furtherInformation="https://example.org/kurs",
    )

    assert eu_elements(achievement) == [
        EuElement("learning_outcomes", ("Tworzy tabele przestawne.", "Łączy dane z kilku źródeł.")),
        EuElement("ects", ("2.5",)),
        EuElement("workload_hours", ("40",)),
        EuElement("eqf_level", ("5",)),
        EuElement("prk_level", ("5",)),
        EuElement("assessment", ("Projekt praktyczny",)),
        EuElement("participation", ("blended",)),
        EuElement("quality_assurance", ("ISO 9001",)),
        EuElement("prerequisites", ("Podstawy arkusza",)),
        EuElement("supervision", ("Egzamin nadzorowany",)),
        EuElement("stackability", ("Część ścieżki „Analityk danych”",)),
        EuElement("further_information", ("https://example.org/kurs",)),
    ]
    assert [element.key for element in eu_elements(achievement)] == list(KEYS)


def test_only_stated_elements_are_returned() -> None:
    achievement = built(
        learningOutcomes=["Tworzy tabele przestawne."],
        workloadHours=7.5,
        eqfLevel=4,
        prkLevel=4,
        assessment="Test",
        participation="online",
        qualityAssurance="Wewnętrzna",
    )

    assert [(element.key, element.values) for element in eu_elements(achievement)] == [
        ("learning_outcomes", ("Tworzy tabele przestawne.",)),
        ("workload_hours", ("7.5",)),
        ("eqf_level", ("4",)),
        ("prk_level", ("4",)),
        ("assessment", ("Test",)),
        ("participation", ("online",)),
        ("quality_assurance", ("Wewnętrzna",)),
    ]


def test_a_plain_achievement_has_none() -> None:
    assert eu_elements({"name": "SQL", "alignment": [{"targetType": "CFItem", "targetName": "SQL"}]}) == []


def test_unreadable_entries_from_a_foreign_credential_are_skipped() -> None:
    achievement = {
        "creditsAvailable": True,
        "alignment": [
            "not an object",
            {"targetType": 5},
            {"targetType": "ext:EQF", "targetCode": "9"},
            {"targetType": "ext:PRK", "targetCode": "level five"},
            {"targetType": "ext:NotionalWorkload", "targetName": "a lot", "targetCode": "P1Y"},
            {"targetType": "ext:AssessmentType", "targetName": "   "},
            {"targetType": "ext:ParticipationForm", "targetName": "w  terenie", "targetCode": "field"},
            {"targetType": "ext:EQF", "targetCode": "6"},
            {"targetType": "ext:EQF", "targetCode": "7"},
        ],
    }

    assert eu_elements(achievement) == [
        EuElement("eqf_level", ("6",)),
        EuElement("participation", ("w terenie",)),
    ]


def test_anything_but_an_alignment_list_gives_nothing() -> None:
    assert eu_elements({"alignment": {"targetType": "ext:EQF", "targetCode": "5"}, "creditsAvailable": "5"}) == []
