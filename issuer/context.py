"""What every request and CLI command works with: settings, the database, the key store and URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from credentials.hashing import derive_key
from credentials.jose import Signer
from issuer import audit, repository
from issuer.db import Database, make_engine
from issuer.errors import ConfigurationError
from issuer.keystore import KeyStore
from issuer.models import Provider
from issuer.settings import IssuerSettings
from issuer.urls import QR_MAX_BYTES, Urls
from issuer.vault import Vault

if TYPE_CHECKING:
    from issuer.jobs import JobQueue
    from issuer.mail import Transport

RECIPIENT_KEY_PURPOSE = "odznaka duplicate guard v1"


@dataclass
class IssuerContext:
    settings: IssuerSettings
    db: Database
    keys: KeyStore
    urls: Urls
    recipient_key: bytes
    """HMAC key of the duplicate guard (:func:`issuer.issuance.recipient_key`), derived from the server secret."""
    vault: Vault
    """Encrypts what must be kept but not read from a copy of the database (learners' addresses, TOTP secrets)."""
    secret: bytes
    """The server secret itself, for keys derived for one purpose each (sessions, CSRF, invitations)."""
    _jobs: JobQueue | None = field(default=None, repr=False)
    _mailer: Transport | None = field(default=None, repr=False)

    @property
    def jobs(self) -> JobQueue:
        """The job queue (built on first use: most commands never need it)."""
        if self._jobs is None:
            from issuer.jobs import JobQueue

            self._jobs = JobQueue(self, self.settings.job_queue_url)
        return self._jobs

    @property
    def mailer(self) -> Transport:
        """Where learners' e-mails go: SMTP (``ISSUER_SMTP_URL``) or ``.eml`` files in ``ISSUER_MAIL_DIR``."""
        if self._mailer is None:
            from issuer.mail import transport_for

            self._mailer = transport_for(self.settings.smtp_url, self.settings.mail_folder)
        return self._mailer

    @classmethod
    def from_settings(cls, settings: IssuerSettings, *, check_passphrase_strength: bool = True) -> IssuerContext:
        """Everything a request or command needs. ``check_passphrase_strength=False`` only for re-encrypting keys
        that were written under a passphrase the service no longer accepts."""
        urls = Urls(settings.public_url, settings.verifier_url)
        if urls.longest_short_url() > QR_MAX_BYTES:
            raise ConfigurationError(
                "ISSUER_PUBLIC_URL is too long for a version 5 QR code, which phones read from print: "
                f"a QR link would be {urls.longest_short_url()} bytes; at most {QR_MAX_BYTES}."
            )
        secret = settings.server_secret()
        seal = audit.AuditSeal(derive_key(secret, audit.KEY_PURPOSE), settings.audit_checkpoint_path)
        return cls(
            settings=settings,
            db=Database(make_engine(settings.sqlalchemy_url), audit_seal=seal),
            keys=KeyStore(
                settings.private_keys_dir,
                settings.passphrase(check_strength=check_passphrase_strength),
                settings.key_kdf_rounds,
            ),
            urls=urls,
            recipient_key=derive_key(secret, RECIPIENT_KEY_PURPOSE),
            vault=Vault(secret),
            secret=secret,
        )

    def load_signing_keys(self) -> int:
        """Decrypt every key that can sign now or later; raise :class:`ConfigurationError` on the first failure.

        Run at start-up so that a wrong passphrase or a missing file stops the service at once instead of
        failing the first issuance.
        """
        with self.db.read() as session:
            slugs = {provider.id: provider.slug for provider in repository.providers(session)}
            keys = [key for key in repository.signing_keys(session) if key.status in ("pending", "active")]
        for key in keys:
            self.keys.signer(slugs[key.provider_id], key.kid, key.alg)
        return len(keys)

    def signer_for(self, session: Session, provider: Provider, now: datetime) -> tuple[str, Signer]:
        """The provider's signing key (its thumbprint) and a signer that puts the key's URL in the header, as of
        ``now``; call it inside the write transaction, so a key marked compromised meanwhile is never used.
        Raises :class:`ConfigurationError` when there is none."""
        assert provider.id is not None
        key = repository.active_signing_key(session, provider.id, now)
        if key is None:
            raise ConfigurationError(f"Provider '{provider.slug}' has no active signing key.")
        return key.kid, self.keys.signer(provider.slug, key.kid, key.alg, self.urls.key(provider.slug, key.kid))

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.close()
        self.db.engine.dispose()
