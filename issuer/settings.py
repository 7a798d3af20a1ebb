"""Issuer configuration, read from ``ISSUER_*`` environment variables (see ``.env.example``)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from issuer.errors import ConfigurationError


class IssuerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISSUER_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Path("var")
    """Where the SQLite database and (unless ``keys_dir`` says otherwise) the private keys live."""
    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/issuer.db``. PostgreSQL: ``postgresql+psycopg://…``."""
    keys_dir: Path | None = None
    """Directory of encrypted private keys; default ``<data_dir>/keys``."""
    public_url: str = "http://127.0.0.1:8000"
    """Base of issuer ids, achievement and credential ids, and every link the issuer hands out."""
    verifier_url: str = "http://127.0.0.1:8001"
    """Base URL of the verifier that QR codes and ``links.verify`` point at."""
    key_passphrase: SecretStr | None = None
    key_passphrase_file: Path | None = None
    key_algorithm: str = "EdDSA"
    """Algorithm of newly created provider keys: EdDSA (default) or ES256."""
    jwks_max_age: int = Field(default=300, ge=0)
    """``Cache-Control: max-age`` of the JWKS, profiles and did:web documents (seconds)."""
    key_activation_delay: int | None = Field(default=None, ge=0)
    """Seconds between publishing a rotated key and signing with it; default: ``jwks_max_age``."""
    status_list_ttl: int = Field(default=300, ge=0)
    """``Cache-Control: max-age`` of status lists (seconds): how long a revocation may take to be seen."""
    status_list_length: int = Field(default=131_072, ge=131_072, le=16_777_216)
    """Entries per status list (bits); a new list is started when one fills up."""

    @field_validator("public_url", "verifier_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("key_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ("EdDSA", "ES256"):
            raise ValueError("must be EdDSA or ES256")
        return value

    @field_validator("status_list_length")
    @classmethod
    def _whole_bytes(cls, value: int) -> int:
        if value % 8:
            raise ValueError("must be a multiple of 8")
        return value

    @property
    def activation_delay(self) -> int:
        return self.jwks_max_age if self.key_activation_delay is None else self.key_activation_delay

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'issuer.db'}"

    @property
    def private_keys_dir(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    def passphrase(self) -> bytes:
        """Return the key passphrase from ``ISSUER_KEY_PASSPHRASE`` or the file ``ISSUER_KEY_PASSPHRASE_FILE``.

        Raises :class:`ConfigurationError` when neither is set, the file cannot be read, or it is empty.
        """
        if self.key_passphrase is not None:
            secret = self.key_passphrase.get_secret_value()
        elif self.key_passphrase_file is not None:
            try:
                secret = self.key_passphrase_file.read_text("utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(f"ISSUER_KEY_PASSPHRASE_FILE cannot be read: {exc.strerror}.") from exc
        else:
            raise ConfigurationError(
                "Set ISSUER_KEY_PASSPHRASE or ISSUER_KEY_PASSPHRASE_FILE: private keys are encrypted at rest."
            )
        if len(secret) < 12:
            raise ConfigurationError("The key passphrase must be at least 12 characters long.")
        return secret.encode("utf-8")


@functools.cache
def get_settings() -> IssuerSettings:
    """Settings from the environment, read once; tests build their own ``IssuerSettings`` instead."""
    return IssuerSettings()
