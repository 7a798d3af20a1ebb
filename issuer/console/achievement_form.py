"""The badge form: what a coordinator typed, read into an ``AchievementIn``, and every problem named by the
field's own label in the reader's words, beside the field and in the summary.

The form's fields keep the names the page shows them under (``mc-ects``, ``align-2-url``); the API's field paths
(``microCredential.ects``, ``alignment[2].targetUrl``) are translated back to them, so a problem found by
:mod:`issuer.achievements` lands next to the field the person has to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from issuer.achievements import (
    DEFAULT_LANGUAGE,
    TRANSLATION_LANGUAGES,
    AchievementIn,
    MicroCredential,
    missing_micro_credential_elements,
)
from issuer.i18n import ACHIEVEMENT_TYPES
from issuer.models import Provider

MAX_ALIGNMENT_ROWS = 30
ALIGNMENT_PARTS = {"url": "targetUrl", "name": "targetName", "framework": "targetFramework", "code": "targetCode"}
EU_NUMBERS = ("ects", "workloadHours")
EU_LEVELS = ("eqfLevel", "prkLevel")
EU_TEXTS = ("assessment", "qualityAssurance", "prerequisites", "supervision", "stackability", "furtherInformation")
TRANSLATION_PARTS = ("name", "description", "criteria")
LABELS = {
    "name": "ach_f_name",
    "description": "ach_f_description",
    "criteria": "ach_f_criteria",
    "achievementType": "ach_f_type",
    "tag": "ach_f_tags",
    "validityMonths": "ach_f_validity",
    "mc-learningOutcomes": "ach_f_outcomes",
    "mc-ects": "ach_f_ects",
    "mc-workloadHours": "ach_f_workload",
    "mc-eqfLevel": "ach_f_eqf",
    "mc-prkLevel": "ach_f_prk",
    "mc-assessment": "ach_f_assessment",
    "mc-participation": "ach_f_participation",
    "mc-qualityAssurance": "ach_f_quality",
    "mc-prerequisites": "ach_f_prerequisites",
    "mc-supervision": "ach_f_supervision",
    "mc-stackability": "ach_f_stackability",
    "mc-furtherInformation": "ach_f_further",
}
"""Each form field's label (its word key); alignment rows and translations are labelled by row and language."""
PYDANTIC_MESSAGES = {
    "missing": "ach_err_required",
    "string_too_short": "ach_err_required",
    "string_too_long": "ach_err_too_long",
    "too_long": "ach_err_too_long",
    "float_parsing": "ach_err_number",
    "float_type": "ach_err_number",
    "finite_number": "ach_err_number",
    "int_parsing": "ach_err_whole",
    "int_type": "ach_err_whole",
    "int_from_float": "ach_err_whole",
    "greater_than": "ach_err_range",
    "greater_than_equal": "ach_err_range",
    "less_than": "ach_err_range",
    "less_than_equal": "ach_err_range",
}
_PATH_PARTS = re.compile(r"[^.\[\]]+")


@dataclass(frozen=True)
class Problem:
    """One thing to fix: the form field (``None`` when the page has no field for it), its label and why."""

    key: str | None
    label: str
    message: str

    @property
    def anchor(self) -> str | None:
        """Where the summary's link goes: the field, or the first choice of a group of radio buttons."""
        return f"{self.key}-online" if self.key == "mc-participation" else self.key

    @classmethod
    def of(cls, key: str | None, message_key: str, words: Mapping[str, str], label: str | None = None) -> Problem:
        return cls(key, label or label_of(key, words), words[message_key])

    @classmethod
    def all_of(
        cls, fields: Iterable[Mapping[str, str]], values: Mapping[str, str], words: Mapping[str, str]
    ) -> list[Problem]:
        """The problems :mod:`issuer.achievements` reported (``[{"field": "microCredential.ects", …}]``)."""
        rows = alignment_rows(values)
        found = []
        for entry in fields:
            path, message = entry.get("field", ""), entry.get("message", "")
            key = key_of(path, rows)
            label = words["ach_f_country"] if path == "issuer.address.addressCountry" else None
            found.append(cls.of(key, _message_key(path, message), words, label))
        return first_per_field(found)


def label_of(key: str | None, words: Mapping[str, str]) -> str:
    if key is None:
        return words["ach_f_achievement"]
    if key.startswith("align-"):
        _, row, part = key.split("-", 2)
        return f"{words['ach_align_row'].format(n=int(row) + 1)}: {words['ach_f_align_' + part]}"
    if key.startswith("tr-"):
        _, lang, part = key.split("-", 2)
        return f"{words['ach_f_tr_' + part]} ({words['ach_lang_' + lang]})"
    return words[LABELS[key]]


def key_of(path: str, rows: list[int]) -> str | None:
    """The form field for an API field path: ``translations.en.name`` → ``tr-en-name``."""
    parts = _PATH_PARTS.findall(path)
    head = parts[0] if parts else ""
    if head in ("name", "description", "achievementType", "validityMonths", "criteria", "tag"):
        return head
    if head == "alignment":
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        part = next((name for name, ob in ALIGNMENT_PARTS.items() if len(parts) > 2 and parts[2] == ob), "url")
        return f"align-{rows[index]}-{part}" if index < len(rows) else None
    if head == "translations" and len(parts) > 1 and parts[1] in TRANSLATION_LANGUAGES:
        part = parts[2] if len(parts) > 2 and parts[2] in TRANSLATION_PARTS else "name"
        return f"tr-{parts[1]}-{part}"
    if head == "microCredential" and len(parts) > 1 and f"mc-{parts[1]}" in LABELS:
        return f"mc-{parts[1]}"
    return None


def _message_key(path: str, message: str) -> str:
    if message.startswith("required for an EU micro-credential"):
        return {"microCredential.ects": "ach_err_eu_workload", "issuer.address.addressCountry": "ach_err_country"}.get(
            path, "ach_err_eu_required"
        )
    if message == "archived":
        return "ach_err_archived"
    if path == "criteria":
        return "ach_err_required"
    if message.startswith("shorten"):
        return "ach_err_too_big"
    return "ach_err_invalid"


def first_per_field(problems: list[Problem]) -> list[Problem]:
    """One problem per field, the first found; every one without a field."""
    seen: set[str | None] = set()
    kept = []
    for problem in problems:
        if problem.key is None or problem.key not in seen:
            kept.append(problem)
            seen.add(problem.key)
    return kept


def values_of_form(form: FormData) -> dict[str, str]:
    """Everything typed, as typed, to show again when something has to be fixed."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str) and key != "csrf"}


def values_of_input(payload: AchievementIn) -> dict[str, str]:
    """A saved badge as the form shows it, for an edit."""
    values = {
        "name": payload.name,
        "description": payload.description,
        "criteria": payload.criteria.narrative or "",
        "achievementType": payload.achievementType or "",
        "tag": ", ".join(payload.tag or ()),
        "validityMonths": str(payload.validityMonths or ""),
    }
    for row, entry in enumerate(payload.alignment or ()):
        for part, name in ALIGNMENT_PARTS.items():
            values[f"align-{row}-{part}"] = str(entry.get(name) or "")
    for lang, words in (payload.translations or {}).items():
        values[f"tr-{lang}-name"], values[f"tr-{lang}-description"] = words.name, words.description
        values[f"tr-{lang}-criteria"] = (words.criteria.narrative if words.criteria else None) or ""
    block = payload.microCredential
    values["eu"] = "on" if block is not None else ""
    if block is not None:
        values["mc-learningOutcomes"] = "\n".join(block.learningOutcomes or ())
        for name in (*EU_NUMBERS, *EU_LEVELS):
            number = getattr(block, name)
            values[f"mc-{name}"] = "" if number is None else f"{number:f}".rstrip("0").rstrip(".")
        for name in (*EU_TEXTS, "participation"):
            values[f"mc-{name}"] = getattr(block, name) or ""
    return values


def alignment_rows(values: Mapping[str, str]) -> list[int]:
    """The alignment rows that hold anything, in order: the n-th is the badge's n-th alignment."""
    return [
        row
        for row in range(MAX_ALIGNMENT_ROWS)
        if any(values.get(f"align-{row}-{part}", "").strip() for part in ALIGNMENT_PARTS)
    ]


def read_form(
    values: Mapping[str, str], *, base: AchievementIn | None, provider: Provider, words: Mapping[str, str]
) -> tuple[AchievementIn | None, list[Problem]]:
    """The badge the form describes, or every problem with it at once. On an edit, ``base`` (the saved version)
    supplies what the form does not show (fields given through the API, such as ``humanCode``)."""
    problems: list[Problem] = []
    kept = {"alignment", "microCredential", "translations", "tag", "validityMonths", "achievementType", "criteria"}
    data: dict[str, Any] = base.model_dump(exclude_none=True, exclude=kept) if base else {}
    criteria = {"id": base.criteria.id} if base and base.criteria.id else {}
    if narrative := _text(values, "criteria"):
        criteria["narrative"] = narrative
    if not criteria:
        problems.append(Problem.of("criteria", "ach_err_required", words))
    data.update(name=_text(values, "name"), description=_text(values, "description"), criteria=criteria)
    if kind := _text(values, "achievementType"):
        if kind in ACHIEVEMENT_TYPES["en"] or (base is not None and kind == base.achievementType):
            data["achievementType"] = kind
        else:
            problems.append(Problem.of("achievementType", "ach_err_invalid", words))
    if tags := [tag.strip() for tag in values.get("tag", "").split(",") if tag.strip()]:
        data["tag"] = tags
    if months := _text(values, "validityMonths"):
        data["validityMonths"] = months
    alignment = _alignment(values, base, words, problems)
    if alignment:
        data["alignment"] = alignment
    original = (base.inLanguage if base else None) or DEFAULT_LANGUAGE
    translations: dict[str, dict[str, Any]] = {}
    for lang in TRANSLATION_LANGUAGES:
        name, description, narrative = (_text(values, f"tr-{lang}-{part}") for part in TRANSLATION_PARTS)
        if lang != original and (name or description or narrative):
            translations[lang] = {"name": name, "description": description}
            if narrative:
                translations[lang]["criteria"] = {"narrative": narrative}
    if translations:
        data["translations"] = translations
    block = _micro_credential(values) if values.get("eu") else None
    if block is not None:
        data["microCredential"] = block
    payload = None
    try:
        payload = AchievementIn.model_validate(data)
    except ValidationError as invalid:
        for error in invalid.errors():
            path = ".".join(str(part) for part in error["loc"])
            key = key_of(path, alignment_rows(values))
            problems.append(Problem.of(key, PYDANTIC_MESSAGES.get(error["type"], "ach_err_invalid"), words))
    if block is not None:
        try:
            checked = MicroCredential.model_validate(block)
        except ValidationError:
            pass  # already named above, field by field
        else:
            problems.extend(Problem.all_of(missing_micro_credential_elements(checked, provider), values, words))
    if problems:
        return None, first_per_field(problems)
    return payload, []


def _text(values: Mapping[str, str], key: str) -> str:
    return values.get(key, "").strip()


def _alignment(
    values: Mapping[str, str], base: AchievementIn | None, words: Mapping[str, str], problems: list[Problem]
) -> list[dict[str, Any]]:
    """The skills and frameworks rows; a row keeps the ``targetType`` its saved version had for the same URL."""
    saved = (base.alignment if base else None) or []
    types = {entry.get("targetUrl"): entry.get("targetType") for entry in saved}
    entries = []
    for row in alignment_rows(values):
        parts = {part: _text(values, f"align-{row}-{part}") for part in ALIGNMENT_PARTS}
        if not parts["url"]:
            problems.append(Problem.of(f"align-{row}-url", "ach_err_required", words))
        elif not parts["url"].startswith(("https://", "http://")) or any(char.isspace() for char in parts["url"]):
            problems.append(Problem.of(f"align-{row}-url", "ach_err_url", words))
        if not parts["name"]:
            problems.append(Problem.of(f"align-{row}-name", "ach_err_required", words))
        entry: dict[str, Any] = {ALIGNMENT_PARTS[part]: value for part, value in parts.items() if value}
        if types.get(parts["url"]):
            entry["targetType"] = types[parts["url"]]
        entries.append(entry)
    return entries


def _micro_credential(values: Mapping[str, str]) -> dict[str, Any]:
    block: dict[str, Any] = {}
    outcomes = [line.strip() for line in values.get("mc-learningOutcomes", "").splitlines() if line.strip()]
    if outcomes:
        block["learningOutcomes"] = outcomes
    for name in EU_NUMBERS:
        if number := _text(values, f"mc-{name}"):
            block[name] = number.replace(",", ".")  # Polish and Ukrainian write 2,5
    for name in (*EU_LEVELS, *EU_TEXTS, "participation"):
        if text := _text(values, f"mc-{name}"):
            block[name] = text
    return block
