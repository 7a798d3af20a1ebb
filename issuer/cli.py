"""Operator commands: ``issuer init | providers | api-keys | keys | credentials | audit | registry | secrets | staff |
demo | serve | worker``."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
from pathlib import Path
from typing import Annotated

import typer

from credentials.errors import CredentialError
from credentials.hashing import derive_key
from http_edge.access_log import uvicorn_log_config
from issuer import audit_checkpoint, batch_signing, registry, repository
from issuer.achievements import AchievementIn, create_achievement
from issuer.api_keys import SCOPES, Principal, create_api_key, list_api_keys, revoke_api_key
from issuer.audit_verify import verify as verify_audit
from issuer.cli_support import context as _context
from issuer.cli_support import fail as _fail
from issuer.context import RECIPIENT_KEY_PURPOSE, IssuerContext
from issuer.errors import AlreadyExists, IssuerError
from issuer.jobs import settle_heap
from issuer.key_lifecycle import compromise, list_keys, reencrypt_keys, rotate
from issuer.migrate import upgrade
from issuer.providers import create_provider, get_provider
from issuer.reissue import reissue
from issuer.revocation import revoke
from issuer.settings import PASSPHRASE_MIN_GUESSES_LOG10, get_settings, require_strong
from issuer.staff_cli import staff_app

app = typer.Typer(help="Odznaka issuer: set up, manage providers and keys, and serve the API.", no_args_is_help=True)
providers_app = typer.Typer(help="Training providers.", no_args_is_help=True)
api_keys_app = typer.Typer(help="API keys of a provider.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys of a provider: list, rotate, mark compromised.", no_args_is_help=True)
credentials_app = typer.Typer(help="Issued credentials: revoke, reissue.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
registry_app = typer.Typer(help="The programme's signed registry of accredited issuers.", no_args_is_help=True)
secrets_app = typer.Typer(help="Secrets the service needs: generate one into a private file.", no_args_is_help=True)
app.add_typer(providers_app, name="providers")
app.add_typer(api_keys_app, name="api-keys")
app.add_typer(keys_app, name="keys")
app.add_typer(credentials_app, name="credentials")
app.add_typer(audit_app, name="audit")
app.add_typer(registry_app, name="registry")
app.add_typer(secrets_app, name="secrets")
app.add_typer(staff_app, name="staff")

DEMO_SLUG = "demo"
DEMO_COORDINATOR = "koordynator@example.org"
"""The demo provider's owner in the console (``make run``)."""


@app.callback()
def main() -> None:
    """Odznaka issuer."""
    os.umask(0o077)  # the database, its WAL, keys and checkpoint are for this user only


@app.command()
def init() -> None:
    """Create or upgrade the database (safe to run again)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        recipient_key = derive_key(settings.server_secret(), RECIPIENT_KEY_PURPOSE)
    except IssuerError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc
    upgrade(settings.sqlalchemy_url, recipient_key)
    typer.echo(f"database ready: {settings.sqlalchemy_url.split('@')[-1]}")


@providers_app.command("add")
def providers_add(
    slug: str,
    name: Annotated[str, typer.Option(help="Display name of the provider.")],
    url: Annotated[str | None, typer.Option(help="Home page.")] = None,
    email: Annotated[str | None, typer.Option(help="Contact e-mail of the provider.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 country code, e.g. PL.")] = None,
    region: Annotated[str | None, typer.Option(help="Region, e.g. lubelskie.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    algorithm: Annotated[
        str | None, typer.Option(help="RS256 (default: ISSUER_KEY_ALGORITHM), ES256 or EdDSA.")
    ] = None,
) -> None:
    """Add a training provider with its first signing key."""
    ctx = _context()
    try:
        provider = create_provider(
            ctx,
            slug,
            name=name,
            url=url,
            email=email,
            country=country,
            region=region,
            description=description,
            algorithm=algorithm,
        )
    except IssuerError as exc:
        raise _fail(exc) from exc
    issuer_id = ctx.urls.issuer_id(provider.slug)
    typer.echo(f"provider {provider.slug}: issuer id {issuer_id}, signs {provider.key_algorithm}")


@api_keys_app.command("add")
def api_keys_add(
    slug: str,
    scope: Annotated[list[str] | None, typer.Option(help=f"Repeat for several: {', '.join(SCOPES)}.")] = None,
) -> None:
    """Create an API key for a provider; it is printed once, as the last line."""
    ctx = _context()
    try:
        key = create_api_key(ctx, slug, scope or list(SCOPES))
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"API key for {slug} (scopes: {' '.join(sorted(scope or SCOPES))}); it is shown only now:")
    typer.echo(key)


@api_keys_app.command("list")
def api_keys_list(slug: str) -> None:
    """List a provider's API keys: prefix, scopes, created, revoked (the keys themselves are not stored)."""
    ctx = _context()
    try:
        keys = list_api_keys(ctx, slug)
    except IssuerError as exc:
        raise _fail(exc) from exc
    for key in keys:
        state = f"revoked {key.revoked_at.isoformat(timespec='seconds')}" if key.revoked_at else "active"
        typer.echo(f"{key.prefix}…  {key.scopes:22}  created {key.created_at.isoformat(timespec='seconds')}  {state}")


@api_keys_app.command("revoke")
def api_keys_revoke(
    slug: str, prefix: Annotated[str, typer.Argument(help="The key's prefix, as `api-keys list` shows it.")]
) -> None:
    """Revoke an API key; it stops working on the next request."""
    ctx = _context()
    try:
        changed = revoke_api_key(ctx, slug, prefix.rstrip("…"))
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"API key {prefix} {'revoked' if changed else 'was already revoked'}")


DEMO_ACHIEVEMENT = {
    "name": "Analiza danych w Excelu i Power BI",
    "description": "Uczestnik przygotowuje, analizuje i wizualizuje dane biznesowe w Excelu i Power BI.",
    "criteria": {"narrative": "Ukończenie 24-godzinnego kursu i zaliczenie projektu końcowego."},
    "fieldOfStudy": "Analiza danych",
    "inLanguage": "pl",
    "tag": ["dane", "Power BI", "Kompetencje jutra"],
    "microCredential": {
        "learningOutcomes": [
            "Importuje i czyści dane z wielu źródeł",
            "Buduje raport w Power BI z miarami DAX",
        ],
        "ects": 1,
        "eqfLevel": 5,
        "prkLevel": 5,
        "assessment": "Projekt końcowy oceniany przez trenera",
        "participation": "blended",
        "qualityAssurance": "Wewnętrzny system zapewniania jakości dostawcy szkoleń",
    },
    "translations": {
        "en": {
            "name": "Data analysis in Excel and Power BI",
            "description": "The participant prepares, analyses and visualises business data in Excel and Power BI.",
            "criteria": {"narrative": "Completing the 24-hour course and passing the final project."},
        },
        "uk": {
            "name": "Аналіз даних в Excel і Power BI",
            "description": "Учасник готує, аналізує та візуалізує бізнес-дані в Excel і Power BI.",
            "criteria": {"narrative": "Проходження 24-годинного курсу та захист підсумкового проєкту."},
        },
    },
}


@app.command()
def demo() -> None:
    """Set up a demo provider with an achievement and print an API key and a curl that issues a badge."""
    init()
    ctx = _context()
    with contextlib.suppress(AlreadyExists):
        create_provider(
            ctx,
            DEMO_SLUG,
            name="Centrum Szkoleń Demo",
            url="https://lublin.eu/",
            email="kontakt@example.org",
            country="PL",
            region="lubelskie",
            description="Demonstration training provider of the Kompetencje jutra programme.",
        )
    provider = get_provider(ctx, DEMO_SLUG)
    principal = Principal(provider, frozenset(SCOPES), "cli")
    with ctx.db.read() as session:
        existing = repository.achievements(session, principal.provider_id)
    achievement = (
        existing[0]
        if existing
        else create_achievement(ctx, provider, AchievementIn.model_validate(DEMO_ACHIEVEMENT), "cli")
    )
    key = create_api_key(ctx, DEMO_SLUG, list(SCOPES))
    body = {"achievement": achievement.document["id"], "recipient": {"name": "Anna Nowak", "email": "anna@example.org"}}
    typer.echo(f"issuer id:  {ctx.urls.issuer_id(DEMO_SLUG)}")
    typer.echo(f"console:    {_demo_console(ctx)}")
    typer.echo(f"e-mails:    written as .eml files to {ctx.settings.mail_folder} (set ISSUER_SMTP_URL to send them)")
    typer.echo(f"API key:    {key}")
    typer.echo("issue a badge:")
    typer.echo(
        f"  curl -sS -X POST {ctx.settings.public_url}/api/v1/credentials "
        f"-H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}"
    )


def _demo_console(ctx: IssuerContext) -> str:
    """The demo coordinator's way in: a one-time link to choose a password, until one is chosen."""
    from issuer import staff

    member = staff.staff_by_email(ctx, DEMO_COORDINATOR)
    if member is not None and member.password_hash is not None:
        return f"{ctx.settings.public_url}/console  (sign in as {DEMO_COORDINATOR})"
    link = staff.invite(ctx, provider_slug=DEMO_SLUG, email=DEMO_COORDINATOR, role="owner", actor="cli")
    return f"{link}  (choose a password for {DEMO_COORDINATOR})"


@keys_app.command("list")
def keys_list(slug: str) -> None:
    """List a provider's keys with their state (pending, active, retired, compromised)."""
    ctx = _context()
    try:
        states = list_keys(ctx, slug)
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{'KEY ID (thumbprint)':43}  {'ALG':6}  {'STATE':11}  {'SIGNS FROM':25}  ENDED")
    for state in states:
        ended = state.compromised_at or state.retired_at
        typer.echo(
            f"{state.kid:43}  {state.alg:6}  {state.status:11}  {state.activates_at.isoformat(timespec='seconds'):25}  "
            f"{ended.isoformat(timespec='seconds') if ended else '-'}"
        )


@keys_app.command("rotate")
def keys_rotate(
    slug: str,
    delay: Annotated[
        int | None, typer.Option(help="Seconds until it signs; default ISSUER_KEY_ACTIVATION_DELAY.")
    ] = None,
    algorithm: Annotated[
        str | None, typer.Option(help="RS256, ES256 or EdDSA; default: what the provider signs with now.")
    ] = None,
) -> None:
    """Publish a new key now; it starts signing after the activation delay and the old key retires."""
    ctx = _context()
    try:
        key = rotate(ctx, slug, delay=delay, algorithm=algorithm)
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"new key {key.kid} ({key.alg}) published; signs from {key.activates_at.isoformat()}")


@keys_app.command("compromise")
def keys_compromise(
    slug: str,
    kid: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Mark a key compromised: everything signed with it verifies as invalid (key_compromised). Cannot be undone."""
    if not yes:
        typer.confirm(
            f"Everything {slug} signed with {kid} will verify as invalid, for good. Mark the key compromised?",
            abort=True,
        )
    ctx = _context()
    try:
        replacement = compromise(ctx, slug, kid)
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"key {kid} marked compromised; verifiers learn of it within their cache TTL")
    if replacement is not None:
        typer.echo(f"new key {replacement.kid} signs from now on")
    typer.echo(f"reissue what it signed with: issuer credentials reissue {slug} --kid {kid}")


@keys_app.command("reencrypt")
def keys_reencrypt(
    new_passphrase_file: Annotated[
        Path | None, typer.Option(help="Encrypt under this passphrase instead of the current one.")
    ] = None,
) -> None:
    """Rewrite every private key file in the current format (OpenSSH, bcrypt KDF), optionally under a new
    passphrase. Reads them with the current one, even if that one is too weak to run the service with."""
    settings = get_settings()
    try:
        current = settings.passphrase(check_strength=False)
        if new_passphrase_file is not None:
            new = new_passphrase_file.read_text("utf-8").strip()
        else:
            new = current.decode("utf-8")
        require_strong(new, "The new passphrase", PASSPHRASE_MIN_GUESSES_LOG10)
    except IssuerError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.secho(f"error: {new_passphrase_file} cannot be read ({exc.strerror})", err=True, fg="red")
        raise typer.Exit(2) from exc
    try:
        ctx = IssuerContext.from_settings(settings, check_passphrase_strength=False)
        changed, total = reencrypt_keys(ctx, new.encode("utf-8"))
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"{changed} of {total} key file(s) rewritten (OpenSSH format, bcrypt KDF, {settings.key_kdf_rounds} rounds)"
    )
    if new_passphrase_file is not None:
        typer.echo(f"set ISSUER_KEY_PASSPHRASE_FILE={new_passphrase_file} before starting the service again")


@credentials_app.command("revoke")
def credentials_revoke(
    slug: str,
    credential: Annotated[str, typer.Argument(help="The credential's id (URL) or UUID.")],
    reason: Annotated[str, typer.Option(help="Shown on the credential's page and at the verifier.")] = "",
) -> None:
    """Revoke a credential for good (a second revoke changes nothing)."""
    ctx = _context()
    try:
        provider = get_provider(ctx, slug)
        result = revoke(ctx, provider, credential, reason, "cli")
    except IssuerError as exc:
        raise _fail(exc) from exc
    state = "revoked" if result.changed else "was already revoked"
    typer.echo(f"{ctx.urls.credential(result.record.id)} {state}")


@credentials_app.command("reissue")
def credentials_reissue(
    slug: str,
    kid: Annotated[str | None, typer.Option(help="Reissue everything signed with this key.")] = None,
    credential: Annotated[list[str] | None, typer.Option(help="A credential id or UUID; repeat for several.")] = None,
) -> None:
    """Re-sign credentials under the active key and revoke the old copies (which point to the new ones)."""
    if kid is None and not credential:
        typer.secho("error: give --kid or at least one --credential", err=True, fg="red")
        raise typer.Exit(2)
    ctx = _context()
    try:
        done = reissue(ctx, slug, kid=kid, credential_ids=credential)
    except IssuerError as exc:
        raise _fail(exc) from exc
    for item in done:
        typer.echo(f"{ctx.urls.credential(item.old_id)} -> {ctx.urls.credential(item.new_id)}")
    typer.echo(f"{len(done)} credential(s) reissued")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the keyed chain and its checkpoint, and reconcile revocations, status bits and audit entries."""
    ctx = _context()
    assert ctx.db.audit_seal is not None
    with ctx.db.read() as session:
        report = verify_audit(session, ctx.db.audit_seal)
    if not report.intact:
        typer.secho(f"audit log NOT intact ({report.entries} entries):", err=True, fg="red")
        for problem in report.problems:
            typer.secho(f"  - {problem}", err=True, fg="red")
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {report.entries} entries; revocations, status lists and the log agree")


@audit_app.command("reseal")
def audit_reseal() -> None:
    """Write a new checkpoint at the log's current end (after restoring a backup, or examining a reported break)."""
    ctx = _context()
    assert ctx.db.audit_seal is not None
    with ctx.db.read() as session:
        seq, entry_hash = repository.last_audit_link(session)
    audit_checkpoint.reseal(ctx.db.audit_seal, seq, entry_hash)
    typer.echo(f"checkpoint written at entry {seq}: {ctx.db.audit_seal.checkpoint}")


@secrets_app.command("generate")
def secrets_generate(path: Path) -> None:
    """Write a new random secret (256 bits) into PATH, readable by this user only; refuses to overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        typer.secho(f"error: {path} exists; refusing to overwrite a secret", err=True, fg="red")
        raise typer.Exit(1) from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    typer.echo(f"secret written to {path}")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="Web worker processes.")] = 1,
    job_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the job worker (cohorts, e-mails) in the web process; with several web processes, run "
            "`issuer worker` beside them instead.",
        ),
    ] = True,
) -> None:
    """Serve the issuer API, pages and console (and, by default, its job worker)."""
    import uvicorn

    if job_worker and workers > 1:
        typer.secho("note: with several web processes the job worker runs apart: start `issuer worker`", err=True)
    # Read by the app's own settings (uvicorn builds it from the factory): set before anything reads them.
    os.environ["ISSUER_EMBEDDED_WORKER"] = "true" if job_worker and workers == 1 else "false"
    get_settings.cache_clear()
    try:
        _context().load_signing_keys()  # refuse to start with an unreadable key, before binding the port
    except IssuerError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc
    import issuer.app  # noqa: F401 - loaded before the heap is settled, so that it is settled too

    settle_heap()
    uvicorn.run(
        "issuer.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # http_edge.access_log logs paths without their query strings instead
        log_config=uvicorn_log_config(),
    )


@app.command()
def worker(
    threads: Annotated[int | None, typer.Option(help="Worker threads (default ISSUER_WORKER_THREADS).")] = None,
    once: Annotated[bool, typer.Option(help="Run what is waiting now, then stop.")] = False,
) -> None:
    """Run the job worker on its own: issues confirmed cohorts and sends learners' e-mails, with retries."""
    ctx = _context()
    try:
        ctx.load_signing_keys()
    except IssuerError as exc:
        raise _fail(exc) from exc
    if once:
        ctx.jobs.sweep()
        typer.echo(f"{ctx.jobs.drain()} job(s) done")
        return
    consumer = ctx.jobs.consumer(threads or ctx.settings.worker_threads, embedded=False)
    batch_signing.process.start()
    ctx.jobs.sweep()
    settle_heap()
    try:
        consumer.run()
    finally:
        batch_signing.process.stop()


@credentials_app.command("import")
def credentials_import(
    slug: str,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: name, e-mail, and optional columns.", exists=True)],
    achievement: Annotated[str, typer.Option(help="The achievement's id (URL) or UUID.")],
    dry_run: Annotated[bool, typer.Option(help="Check every row and report; issue nothing.")] = False,
    policy: Annotated[
        str | None,
        typer.Option(help="A learner who already holds it: skip (the default), allow (issue again) or refuse."),
    ] = None,
) -> None:
    """Issue a cohort from a participant file, row by row, with a report; exits 1 when any row failed."""
    from issuer import cohort_run, cohorts

    ctx = _context()
    if not dry_run:
        batch_signing.process.start()  # ready for the rows once the file is read (stopped below, or at exit)
    settle_heap()
    try:
        provider = get_provider(ctx, slug)
        submitter = cohorts.Submitter(provider, "cli")
        made = cohorts.upload(ctx, submitter, achievement, file.read_bytes(), file.name, policy=policy or "skip")
    except IssuerError as exc:
        raise _fail(exc) from exc
    cohort = made.cohort
    if made.existing:
        typer.echo(f"this file was uploaded before: cohort {cohort.id} ({cohort.state})")
    counts = cohorts.counts(ctx, cohort.id)
    typer.echo(f"{cohort.total} row(s): {counts['pending']} ready, {counts['invalid']} with errors")
    if dry_run:
        _print_problems(ctx, cohort.id)
        typer.echo("dry run: nothing issued (run again without --dry-run to issue the ready rows)")
        raise typer.Exit(1 if counts["invalid"] else 0)
    try:
        cohorts.confirm(ctx, submitter, cohort.id, policy)
    except IssuerError as exc:
        raise _fail(exc) from exc
    with typer.progressbar(length=max(counts["pending"], 1), label="issuing") as bar:
        try:
            cohort_run.run(ctx, cohort.id, progress=bar.update)
        finally:
            batch_signing.process.stop()
    done = cohorts.get(ctx, provider.id, cohort.id)
    counts = cohorts.counts(ctx, cohort.id)
    _print_problems(ctx, cohort.id)
    typer.echo(
        f"cohort {cohort.id}: {counts['issued']} issued, {counts['skipped']} skipped (already held), "
        f"{counts['failed'] + counts['invalid']} failed, {counts['pending']} pending ({done.state})"
    )
    if counts["issued"]:
        typer.echo("e-mails to the learners are queued; the running issuer (or `issuer worker`) sends them")
    if counts["failed"] + counts["invalid"] or counts["pending"]:
        raise typer.Exit(1)


def _print_problems(ctx: IssuerContext, cohort_id: str) -> None:
    from issuer import cohorts

    for row in cohorts.row_views(ctx, cohort_id, states=("invalid", "failed")):
        for problem in row.problems:
            typer.echo(f"  row {row.line}: {problem.message('en')}")


def _registry_passphrase() -> bytes:
    value = os.environ.get("REGISTRY_KEY_PASSPHRASE", "")
    try:
        require_strong(value, "REGISTRY_KEY_PASSPHRASE", PASSPHRASE_MIN_GUESSES_LOG10)
    except IssuerError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc
    return value.encode("utf-8")


@registry_app.command("keygen")
def registry_keygen(key_file: Path) -> None:
    """Create the registry signing key (encrypted with REGISTRY_KEY_PASSPHRASE); print its public JWK."""
    try:
        jwk = registry.create_key(key_file, _registry_passphrase())
    except FileExistsError as exc:
        typer.secho(f"error: {key_file} exists; refusing to overwrite a key", err=True, fg="red")
        raise typer.Exit(1) from exc
    typer.echo("public JWK (give it to verifiers as VERIFIER_REGISTRY_KEY):")
    typer.echo(json.dumps(jwk))


@registry_app.command("sign")
def registry_sign(
    document: Annotated[Path, typer.Argument(help='JSON: {"name": …, "issuers": [{"id", "name", "status", "since"}]}')],
    key_file: Annotated[Path, typer.Option("--key", help="The registry key made by `issuer registry keygen`.")],
    out: Annotated[Path, typer.Option(help="Where to write the signed registry (a JWT).")],
) -> None:
    """Sign the registry of accredited issuers; serve the output file from any static host."""
    try:
        token = registry.sign(registry.load_document(document), key_file.read_bytes(), _registry_passphrase())
    except IssuerError as exc:
        raise _fail(exc) from exc
    except (OSError, CredentialError) as exc:
        typer.secho(f"error: the registry key cannot be used: {exc}", err=True, fg="red")
        raise typer.Exit(1) from exc
    out.write_text(token + "\n", "ascii")
    typer.echo(f"signed registry written to {out}")
