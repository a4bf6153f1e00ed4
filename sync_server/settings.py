"""Server settings from the environment (pydantic-settings): safe defaults for one machine, strict in production.

Every setting reads `EYEVSAI_SERVER_<NAME>`; a few well-known names are also read bare (`DATABASE_URL`, `ENV`,
`SECRET_KEY`). Nested settings use `__`, e.g. `EYEVSAI_SERVER_OAUTH__GITHUB__CLIENT_ID`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_path
from pydantic import AliasChoices, BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from classifiers.errors import EyeVsAIError
from sync_server.oauth_providers import PROVIDERS

APP_DIR_NAME = "eyevsai-server"
SECRET_FILE = "secret_key"
MIN_SECRET_CHARS = 32
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "postgresql+psycopg")
# Values that must never sign tokens in production (copied from examples, or left empty).
_INSECURE_SECRETS = {"", "changeme", "change-me", "changethis", "secret", "dev", "development", "insecure"}


class SettingsError(EyeVsAIError):
    """The configuration cannot run the server (insecure in production, or inconsistent)."""


class Environment(StrEnum):
    """`development` generates what is missing; `production` refuses insecure or missing secrets."""

    development = "development"
    production = "production"
    test = "test"


class OAuthProvider(BaseModel):
    """One OAuth provider's client registration; the endpoints default to the provider's public ones.

    A provider is enabled by giving its `client_id` and a secret: `client_secret`, or for Apple either a ready
    client secret or the Sign in with Apple key (`team_id`, `key_id`, `private_key` as PEM), from which the server
    signs short-lived client secrets itself. Register `<public_url>/api/v1/auth/oauth/<provider>/callback` as the
    redirect URI at the provider.
    """

    client_id: str = ""
    client_secret: str = ""
    # Sign in with Apple: the client secret is an ES256 JWT signed with this key (Apple's .p8 file).
    team_id: str = ""
    key_id: str = ""
    private_key: str = ""
    # Overrides for tests and self-hosted providers; empty means the provider's documented endpoint.
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    scope: str = ""

    @model_validator(mode="after")
    def _has_a_secret(self) -> OAuthProvider:
        if self.client_id and not (self.client_secret or self.private_key):
            raise ValueError(
                "a provider with a client_id needs its client_secret (Apple: or team_id, key_id and private_key)"
            )
        if self.private_key:
            if not (self.team_id and self.key_id):
                raise ValueError("an Apple private_key needs its team_id and key_id")
            from cryptography.hazmat.primitives.asymmetric import ec  # lazy: cryptography (an Apple key only)
            from cryptography.hazmat.primitives.serialization import load_pem_private_key  # lazy: cryptography

            try:
                key = load_pem_private_key(self.private_key.encode(), password=None)
            except (ValueError, TypeError):
                key = None
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError("private_key must be the PEM text of the Sign in with Apple key (.p8 file)")
        return self

    @property
    def is_enabled(self) -> bool:
        return bool(self.client_id)

    def endpoint_overrides(self) -> list[str]:
        return [url for url in (self.authorize_url, self.token_url, self.userinfo_url) if url]


class RateLimits(BaseModel):
    """Requests allowed per window (seconds); 0 disables a limit.

    Counted in the database (table `rate_limits`), so every worker and every host sharing the database counts
    against one budget (see ratelimit.py for how the large limits are counted in batches).
    """

    window_s: Annotated[int, Field(ge=1, le=86_400)] = 60
    per_ip: Annotated[int, Field(ge=0)] = 600
    per_account: Annotated[int, Field(ge=0)] = 600
    auth_per_ip: Annotated[int, Field(ge=0)] = 30
    # Password guesses at one account from any number of addresses (keyed by a digest of the email, so it also
    # applies to emails that have no account and says nothing about which do).
    login_per_account: Annotated[int, Field(ge=0)] = 10
    uploads_per_account: Annotated[int, Field(ge=0)] = 120
    ranked_starts_per_account: Annotated[int, Field(ge=0)] = 30
    # Pack and model files (/api/v1/downloads/files/…) are counted here instead of in `per_ip`: a pack is
    # thousands of small images, each one request.
    downloads_per_ip: Annotated[int, Field(ge=0)] = 20_000


class Argon2Params(BaseModel):
    """argon2id cost and how many hashes may run at once (docs/design.md §6).

    The cost defaults are argon2-cffi's (RFC 9106 low-memory profile: t=3, 64 MiB, 4 lanes; about 0.25 s of CPU
    on one core). Each hash in flight holds `memory_cost_kib` of memory, so at most `max_concurrent` run at once
    per process; up to `max_waiting` more wait at most `wait_s` for a slot, and the rest are answered 503 with
    Retry-After at once. Tests lower the cost.
    """

    time_cost: Annotated[int, Field(ge=1, le=20)] = 3
    memory_cost_kib: Annotated[int, Field(ge=1024, le=4 * 1024 * 1024)] = 65_536
    parallelism: Annotated[int, Field(ge=1, le=64)] = 4
    max_concurrent: Annotated[int, Field(ge=1, le=64)] = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2)
    )
    max_waiting: Annotated[int, Field(ge=0, le=1000)] = 8
    wait_s: Annotated[float, Field(gt=0, le=60)] = 2.0


class DatabaseTimeouts(BaseModel):
    """Bounded waits on the database, so that an outage answers 503 quickly instead of hanging every request.

    `connect_s`: opening a connection (PostgreSQL connect_timeout); `statement_s`: one statement (PostgreSQL
    statement_timeout; on SQLite a statement is interrupted past it, and a write waits at most this long for the
    write lock); `pool_s`: waiting for a free pooled connection.
    """

    connect_s: Annotated[float, Field(ge=1, le=300)] = 5.0
    statement_s: Annotated[float, Field(ge=0.1, le=3600)] = 15.0
    pool_s: Annotated[float, Field(ge=0.1, le=300)] = 10.0


class MailSettings(BaseModel):
    """The SMTP server that sends account mail (email confirmation, password reset, account deletion).

    `security`: `starttls` (port 587, upgrade after connecting), `ssl` (port 465, TLS from the first byte) or
    `none` (plain SMTP: a relay on the same host only). Without a `host`, development writes each mail as an
    `.eml` file under `<data_dir>/mail/` and other environments log that a mail was dropped.
    """

    host: str = ""
    port: Annotated[int, Field(ge=1, le=65_535)] = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    from_address: str = "EyeVsAI <noreply@localhost>"
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0

    @property
    def is_enabled(self) -> bool:
        return bool(self.host)


class StorageSettings(BaseModel):
    """Where published pack and model files live (sync_server/pack_store.py), named by their SHA-256.

    `disk` (default): under `dir`, else `<data_dir>/files`. `s3`: in an S3-compatible bucket shared by every host
    (AWS, MinIO, Ceph…); credentials from `access_key_id`/`secret_access_key`, else boto3's usual chain
    (AWS_* variables, ~/.aws, an instance role). `endpoint_url` points at a non-AWS service.
    """

    backend: Literal["disk", "s3"] = "disk"
    dir: Path | None = None
    bucket: str = ""
    prefix: str = "eyevsai/files/"
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> StorageSettings:
        if self.backend == "s3" and not self.bucket:
            raise ValueError("EYEVSAI_SERVER_STORAGE__BACKEND=s3 needs EYEVSAI_SERVER_STORAGE__BUCKET")
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise ValueError("give both STORAGE__ACCESS_KEY_ID and STORAGE__SECRET_ACCESS_KEY, or neither")
        return self


class Settings(BaseSettings):
    """Everything the composition root needs; build with `Settings()` (environment) or keyword overrides."""

    model_config = SettingsConfigDict(
        env_prefix="EYEVSAI_SERVER_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    env: Environment = Field(Environment.development, validation_alias=AliasChoices("EYEVSAI_SERVER_ENV", "ENV", "env"))
    data_dir: Path | None = None
    database_url: str = Field(
        "", validation_alias=AliasChoices("EYEVSAI_SERVER_DATABASE_URL", "DATABASE_URL", "database_url")
    )
    secret_key: str = Field("", validation_alias=AliasChoices("EYEVSAI_SERVER_SECRET_KEY", "SECRET_KEY", "secret_key"))
    auto_migrate: bool = True
    public_url: str = "http://127.0.0.1:8000"
    access_token_minutes: Annotated[int, Field(ge=1, le=120)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 30
    argon2: Argon2Params = Argon2Params()
    db_timeouts: DatabaseTimeouts = DatabaseTimeouts()
    oauth: dict[str, OAuthProvider] = {}
    oauth_flow_minutes: Annotated[int, Field(ge=1, le=60)] = 10
    cors_origins: list[str] = []
    max_body_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 256 * 1024
    rate_limits: RateLimits = RateLimits()
    # The proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated IPs or networks
    # ("10.0.0.0/8,192.168.1.7"), or "*" only when nothing but the proxy can reach the server. The client IP they
    # yield keys the per-IP rate limits; anyone else's forwarding headers are ignored.
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "INFO"
    log_json: bool = True
    ranked_rounds: Annotated[int, Field(ge=1, le=50)] = 10
    ranked_seconds_per_round: Annotated[float, Field(gt=0, le=300)] = 15.0
    # Crowd statistics (sync_server.crowd_stats) stay hidden until this many distinct players answered.
    crowd_min_players: Annotated[int, Field(ge=1, le=10_000)] = 5
    mail: MailSettings = MailSettings()
    storage: StorageSettings = StorageSettings()

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].lower() if value else ""
        if value and scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(
                f"DATABASE_URL: unsupported database {scheme!r}; use postgresql://user:password@host/db "
                "or leave it empty for SQLite in the data directory"
            )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if item in ("*", "") or item.startswith("unix:"):
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"EYEVSAI_SERVER_FORWARDED_ALLOW_IPS: {item!r} is not an IP address or network "
                    "(e.g. 10.0.0.0/8,127.0.0.1)"
                ) from None
        return value

    @field_validator("oauth")
    @classmethod
    def _known_providers(cls, value: dict[str, OAuthProvider]) -> dict[str, OAuthProvider]:

        unknown = sorted(set(value) - set(PROVIDERS))
        if unknown:
            raise ValueError(f"Unknown OAuth provider(s) {unknown}; known: {sorted(PROVIDERS)}.")
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.env is not Environment.production:
            return self
        problems = []
        if self.secret_key.strip().lower() in _INSECURE_SECRETS or len(self.secret_key) < MIN_SECRET_CHARS:
            problems.append(
                f"SECRET_KEY must be set to at least {MIN_SECRET_CHARS} random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if "*" in self.cors_origins:
            problems.append("EYEVSAI_SERVER_CORS_ORIGINS must list origins, not '*'")
        if not self.public_url.startswith("https://"):
            problems.append(f"EYEVSAI_SERVER_PUBLIC_URL must be https:// in production, got {self.public_url!r}")
        for name, provider in self.enabled_oauth().items():
            insecure = [url for url in provider.endpoint_overrides() if not url.startswith("https://")]
            if insecure:
                problems.append(f"OAuth provider {name}'s endpoints must be https:// in production, got {insecure}")
        if problems:
            raise ValueError("Refusing to start in production: " + "; ".join(problems) + ".")
        return self

    @model_validator(mode="after")
    def _mail_is_private_in_production(self) -> Settings:
        # Mail carries sign-in secrets (reset and deletion links): plain SMTP only to a relay on this host.
        mail = self.mail
        if (
            self.env is Environment.production
            and mail.is_enabled
            and mail.security == "none"
            and mail.host not in ("127.0.0.1", "::1", "localhost")
        ):
            raise ValueError(
                "Refusing to start in production: EYEVSAI_SERVER_MAIL__SECURITY=none sends reset links in clear "
                f"text to {mail.host!r}; use starttls or ssl, or a relay on 127.0.0.1."
            )
        return self

    def resolved_data_dir(self) -> Path:
        """The data directory: the setting, else the platform's per-user data directory."""
        if self.data_dir is not None:
            return self.data_dir

        return user_data_path(APP_DIR_NAME, appauthor=False)

    def resolved_database_url(self) -> str:
        """DATABASE_URL, else an SQLite file in the data directory (created on demand)."""
        if self.database_url:
            url = self.database_url
            # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        data_dir = self.resolved_data_dir()
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # the database holds password hashes and emails
        return f"sqlite:///{data_dir / 'server.sqlite3'}"

    def resolved_secret_key(self) -> str:
        """The token signing key: the setting, else one generated once and kept (0600) in the data directory.

        Production never reaches the fallback (the validator above refuses an empty key), so a generated key
        only ever signs tokens on a developer's or a single-machine install.
        """
        if self.secret_key:
            return self.secret_key
        path = self.resolved_data_dir() / SECRET_FILE
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Written aside, then linked into place: several workers starting together agree on one key.
            tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text(encoding="utf-8").strip()

    def resolved_storage_dir(self) -> Path:
        """The disk store's directory: `storage.dir`, else `files` in the data directory."""
        return self.storage.dir or self.resolved_data_dir() / "files"

    def enabled_oauth(self) -> dict[str, OAuthProvider]:
        return {name: provider for name, provider in self.oauth.items() if provider.is_enabled}


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides; configuration problems become SettingsError."""

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"Invalid server settings: {details}") from exc
