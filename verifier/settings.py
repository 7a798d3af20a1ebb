"""Verifier configuration, read from ``VERIFIER_*`` environment variables and a ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

import functools
import ipaddress
import os
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class VerifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERIFIER_", extra="ignore", env_ignore_empty=True)

    public_url: str = "http://127.0.0.1:8001"
    trusted_issuers: Annotated[tuple[str, ...], NoDecode] = ()
    """Issuer ids whose credentials count, comma-separated in the environment."""
    cache_ttl: int = 300
    """Longest time (seconds) a fetched key set is used before it is fetched again."""
    key_refresh_interval: int = 30
    """An unknown ``kid`` triggers a new fetch of the issuer's keys at most this often (seconds)."""
    registry_url: str | None = None
    """URL (or file path) of the programme's signed registry of accredited issuers."""
    registry_key: str | None = None
    """The registry's public JWK, as JSON or as the path of a file holding it."""
    require_https: bool = True
    """Refuse to contact issuers (keys, lists, credentials, registry) over plain HTTP. Only the local demo turns
    it off, and the verifier's page then says so."""
    fetch_deadline: float = Field(default=5.0, gt=0, le=60)
    """Seconds one fetch from an issuer may take in all (connect, headers, body), however slowly it trickles."""
    failure_ttl: float = Field(default=30.0, ge=0, le=3600)
    """Seconds a failed fetch is remembered; meanwhile answers come from the cache (or say it is unavailable)."""
    allowed_addresses: Annotated[tuple[str, ...], NoDecode] = ()
    """Non-public addresses or networks (CIDR) issuers may be reached at, comma-separated; IP literals in the
    trusted issuer ids and the registry URL are allowed without being listed here."""
    clock_leeway: int = 60
    """Seconds of clock skew tolerated on validFrom / validUntil."""

    @field_validator("trusted_issuers", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_addresses", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        for network in value if isinstance(value, tuple | list) else ():
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("cache_ttl", "key_refresh_interval", "clock_leeway")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value


@functools.cache
def get_settings() -> VerifierSettings:
    """Settings from the environment and a ``.env`` file beside it (the issuer's rule: ``ODZNAKA_ENV_FILE`` names
    another file, empty reads none)."""
    return VerifierSettings(_env_file=os.environ.get("ODZNAKA_ENV_FILE", ".env") or None)
