"""Issuer configuration, read from ``ISSUER_*`` environment variables and a ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from zxcvbn import zxcvbn

from credentials.keys import SIGNING_ALGORITHMS
from issuer.errors import ConfigurationError

PASSPHRASE_MIN_GUESSES_LOG10 = 12
"""A key passphrase must need at least 10^12 guesses by zxcvbn's estimate (each guess costs a bcrypt KDF)."""
QUEUE_SCHEMES = ("sqlite:///", "redis://", "rediss://", "postgresql://", "memory://")
SECRET_KEY_MIN_GUESSES_LOG10 = 24
"""The server secret keys HMACs that anyone with the database could attack offline at full speed: 80 bits."""


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
    key_kdf_rounds: int = Field(default=32, ge=1, le=1024)
    """bcrypt KDF rounds of newly written key files (OpenSSH format): 32 take about 0.3 s per key here."""
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    """The server secret behind the keyed audit chain and the duplicate guard; kept outside the database."""
    audit_checkpoint_file: Path | None = None
    """Where the keyed audit checkpoint is written after each commit; default ``<data_dir>/audit-checkpoint.json``."""
    rate_limit_storage: str = "memory://"
    """Where failed-authentication counters live: ``memory://`` per process, ``redis://host:6379`` when shared."""
    auth_failures_per_minute: int = Field(default=10, ge=1, le=10_000)
    """Failed authentications allowed per client address, and per API-key prefix, in any 60 seconds."""
    key_algorithm: str = "RS256"
    """Algorithm of new providers' keys: RS256 (default, Open Badges 3.0's interoperability minimum), ES256 or
    EdDSA. Each provider keeps its own; ``issuer keys rotate --algorithm`` changes it."""
    jwks_max_age: int = Field(default=300, ge=0)
    """``Cache-Control: max-age`` of the JWKS, profiles and did:web documents (seconds)."""
    key_activation_delay: int | None = Field(default=None, ge=0)
    """Seconds between publishing a rotated key and signing with it; default: ``jwks_max_age``."""
    status_list_ttl: int = Field(default=300, ge=0)
    """``Cache-Control: max-age`` of status lists (seconds): how long a revocation may take to be seen."""
    status_list_length: int = Field(default=131_072, ge=131_072, le=16_777_216)
    """Entries per status list (bits); a new list is started when one fills up."""

    queue_url: str | None = None
    """The job queue (huey): default ``sqlite:///<data_dir>/queue.db``, embedded; ``redis://host:6379/0`` when
    several processes share it (the issuer on PostgreSQL with ``issuer worker`` beside the web processes), or
    ``postgresql://host/db`` (huey's own tables). ``memory://`` keeps jobs in the process (tests)."""
    embedded_worker: bool = False
    """Run the job worker inside the web process (``issuer serve`` turns it on unless told ``--no-worker``)."""
    worker_threads: int = Field(default=2, ge=1, le=64)
    """Threads of the job worker (``issuer serve`` runs one in-process, ``issuer worker`` alone)."""
    smtp_url: str | None = None
    """Where learners' e-mails go: ``smtp://host:25``, ``smtp+starttls://user:pass@host:587`` or
    ``smtps://user:pass@host:465``. Unset (the local default): written as ``.eml`` files to ``mail_dir``."""
    mail_from: str = "Odznaka <odznaka@localhost>"
    """The From of learners' e-mails."""
    mail_dir: Path | None = None
    """Where e-mails are written without SMTP; default ``<data_dir>/mail``."""

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("smtp://", "smtps://", "smtp+starttls://")):
            raise ValueError("must start with smtp://, smtp+starttls:// or smtps://")
        return value

    @field_validator("queue_url")
    @classmethod
    def _queue_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(QUEUE_SCHEMES):
            raise ValueError("must start with " + ", ".join(QUEUE_SCHEMES))
        return value

    @field_validator("public_url", "verifier_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("key_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in SIGNING_ALGORITHMS:
            raise ValueError(f"must be one of {', '.join(SIGNING_ALGORITHMS)}")
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

    @property
    def job_queue_url(self) -> str:
        return self.queue_url or f"sqlite:///{self.data_dir / 'queue.db'}"

    @property
    def mail_folder(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @property
    def audit_checkpoint_path(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoint.json"

    def passphrase(self, *, check_strength: bool = True) -> bytes:
        """Return the key passphrase from ``ISSUER_KEY_PASSPHRASE`` or the file ``ISSUER_KEY_PASSPHRASE_FILE``.

        Raises :class:`ConfigurationError` when neither is set, the file cannot be read, or the passphrase is
        guessable (``check_strength=False`` only to read keys for re-encryption under a stronger one).
        """
        secret = _read_secret(self.key_passphrase, self.key_passphrase_file, "ISSUER_KEY_PASSPHRASE")
        if check_strength:
            require_strong(secret, "The key passphrase", PASSPHRASE_MIN_GUESSES_LOG10)
        return secret.encode("utf-8")

    def server_secret(self) -> bytes:
        """Return the server secret (``ISSUER_SECRET_KEY`` or ``ISSUER_SECRET_KEY_FILE``).

        Raises :class:`ConfigurationError` when it is missing, unreadable, or guessable.
        """
        secret = _read_secret(self.secret_key, self.secret_key_file, "ISSUER_SECRET_KEY")
        require_strong(secret, "The server secret (ISSUER_SECRET_KEY)", SECRET_KEY_MIN_GUESSES_LOG10)
        return secret.encode("utf-8")


def _read_secret(value: SecretStr | None, file: Path | None, name: str) -> str:
    if value is not None:
        return value.get_secret_value()
    if file is not None:
        try:
            return file.read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE cannot be read: {exc.strerror}.") from exc
    raise ConfigurationError(f"Set {name} or {name}_FILE (generate one with `issuer secrets generate FILE`).")


@functools.lru_cache(maxsize=16)
def _guesses_log10(secret: str) -> float:
    return float(zxcvbn(secret[:100])["guesses_log10"])


def require_strong(secret: str, what: str, min_guesses_log10: float) -> None:
    """Raise :class:`ConfigurationError` unless zxcvbn estimates ``secret`` needs 10^``min_guesses_log10`` guesses.

    Only the first 100 characters are scored (zxcvbn slows down on long input; they are plenty).
    """
    if len(secret) < 12 or _guesses_log10(secret) < min_guesses_log10:
        raise ConfigurationError(
            f"{what} is too easy to guess. Use a long random one: `issuer secrets generate FILE` writes one."
        )


ENV_FILE_VARIABLE = "ODZNAKA_ENV_FILE"


def env_file() -> str | None:
    """The settings file read beside the environment (which wins): ``.env`` in the current folder, where
    ``make run`` writes the demo's settings, or the file ``ODZNAKA_ENV_FILE`` names; empty reads none."""
    return os.environ.get(ENV_FILE_VARIABLE, ".env") or None


@functools.cache
def get_settings() -> IssuerSettings:
    """Settings from the environment and :func:`env_file`, read once; tests build their own instead."""
    return IssuerSettings(_env_file=env_file())
