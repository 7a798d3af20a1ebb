"""Validation against the official Open Badges 3.0 AchievementCredential JSON Schema (draft 2019-09).

The schema file ships inside this package, so validation does not depend on anything outside it. The
validator is compiled once and checks ``date-time`` and ``date`` formats.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jsonschema_rs

from credentials.errors import SchemaInvalid

SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"
MAX_REPORTED_ERRORS = 5


@functools.cache
def achievement_credential_schema() -> dict[str, Any]:
    """Return the bundled OB 3.0 AchievementCredential schema as a dict."""
    text = resources.files("credentials").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Any:
    return jsonschema_rs.Draft201909Validator(achievement_credential_schema(), validate_formats=True)


def field_name(path: Any) -> str:
    """``["credentialSubject", "result", 0, "type"]`` → ``credentialSubject.result[0].type`` (root: ``(root)``)."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(root)"


def validate_credential(document: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaInvalid` (with up to five located messages) unless ``document`` validates."""
    _raise_for(_validator(), document, "The credential does not match the Open Badges 3.0 schema.")


def _raise_for(validator: Any, document: Mapping[str, Any], message: str) -> None:
    if validator.is_valid(document):
        return
    errors = []
    for error in validator.iter_errors(document):
        errors.append(f"{field_name(error.instance_path)}: {error.message}")
        if len(errors) == MAX_REPORTED_ERRORS:
            break
    raise SchemaInvalid(message, errors=errors)


@functools.cache
def _achievement_validator() -> Any:
    schema = achievement_credential_schema()
    # The same definitions, entered at Achievement, so a template is checked by the rules it will meet later.
    achievement_schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/Achievement"}
    return jsonschema_rs.Draft201909Validator(achievement_schema, validate_formats=True)


def validate_achievement(document: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaInvalid` unless ``document`` is a valid OB 3.0 ``Achievement``."""
    _raise_for(_achievement_validator(), document, "The achievement does not match the Open Badges 3.0 schema.")
