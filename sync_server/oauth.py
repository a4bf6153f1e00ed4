"""OAuth 2.0 sign-in for desktop apps: authorization code + PKCE on both legs, loopback redirect (RFC 8252).

Client leg (app ↔ this server): the app makes a PKCE verifier and a state, listens on
`http://127.0.0.1:<port>/callback`, asks `POST /auth/oauth/{provider}/start` for the provider's sign-in URL and
opens it in the system browser.
Provider leg (this server ↔ provider): the server makes its own state and verifier and sends the browser to the
provider; on the provider's callback it checks the state (one use, before its expiry), redeems the code with its
verifier (Authlib) and reads the account's subject from the userinfo endpoint or the ID token.
The server then sends the browser to the app's loopback redirect with a one-time sign-in code and the app's
state; the app exchanges code + verifier at `POST /auth/oauth/token` for the usual token pair.

Accounts are found only by (provider, subject). An email the provider reports is kept for information and never
links accounts. A signed-in user who starts a flow links the provider to their account; a guest who does so is
upgraded and keeps its history.

A link is made at the code exchange, never at the provider's callback. The callback only notes the identity
(`OAuthPendingLink`); the exchange needs the sign-in code, which the finishing browser hands to the loopback
listener on its own machine, and the PKCE verifier, which only the app that started the flow holds. So a link
flow started by one player and finished in another player's browser (link CSRF: the attacker sends their
authorization URL to a victim) links nothing: the code lands on the victim's loopback, where no app holds the
attacker's verifier.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import uuid
import warnings
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sync_server import accounts
from sync_server.db import write_session
from sync_server.errors import ServiceError
from sync_server.logs import get_logger
from sync_server.models import OAuthFlow, OAuthIdentity, OAuthPendingLink, User
from sync_server.oauth_providers import (
    PROVIDERS,
    IdentityError,
    ProviderIdentity,
    ProviderSpec,
    apple_client_secret,
    apple_user_name,
    id_token_claims,
    identity_from,
)
from sync_server.schemas.accounts import clean_display_name
from sync_server.security import new_opaque_token, s256_challenge, token_hash
from sync_server.settings import OAuthProvider, Settings

GRANT_LIFETIME = dt.timedelta(minutes=2)  # from the provider's callback to the app's code exchange
FLOW_RETENTION = dt.timedelta(days=1)  # finished or abandoned flows are deleted after this
PROVIDER_TIMEOUT_S = 10.0
UNKNOWN_PROVIDER = ServiceError(404, "This sign-in provider is not enabled on this server")
INVALID_GRANT = ServiceError(400, "Invalid or expired sign-in code; sign in again")
_log = get_logger("oauth")


class CallbackError(Exception):
    """A provider callback that cannot be sent back to any app (unknown, replayed or expired state)."""


class ProviderError(Exception):
    """The provider did not complete the sign-in (refused code, unreachable, unusable answer)."""


@dataclass(frozen=True)
class Flow:
    """What the callback needs of a claimed flow, read in one short transaction."""

    id: int
    provider: str
    code_verifier: str
    client_redirect_uri: str
    client_state: str
    link_user_id: int | None


def _oauth2_client_class():  # noqa: ANN202 - authlib's httpx OAuth2Client
    # Authlib 1.9 warns that its httpx integration will move to the httpx2 package; it still works with httpx
    # 0.28 and constraints.txt pins Authlib, so the warning is muted here rather than in every test run.
    import authlib.deprecate  # noqa: F401  # lazy: authlib - installs its "always" filter first, so the one below can override it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import OAuth2Client  # lazy: authlib
    return OAuth2Client


class OAuthService:
    """Starts flows, handles provider callbacks and redeems sign-in codes (one instance per process)."""

    def __init__(self, settings: Settings, *, http_client: httpx.BaseTransport | None = None) -> None:
        """`http_client`: an httpx transport for the calls to providers (tests); None uses the network."""
        self.settings = settings
        self._client_class = _oauth2_client_class() if settings.enabled_oauth() else None
        # One transport (connection pool and TLS context) for every provider call: building a TLS context per
        # request would cost more CPU than the rest of the sign-in.
        self._transport = http_client or (httpx.HTTPTransport(retries=1) if self._client_class else None)

    # -- configuration -------------------------------------------------------------------------------------------

    def enabled(self) -> list[ProviderSpec]:
        """The specs of the configured providers, in the order of PROVIDERS."""
        configured = self.settings.enabled_oauth()
        return [spec for name, spec in PROVIDERS.items() if name in configured]

    def _provider(self, name: str) -> tuple[ProviderSpec, OAuthProvider]:
        config = self.settings.enabled_oauth().get(name)
        if config is None or name not in PROVIDERS:
            raise UNKNOWN_PROVIDER
        return PROVIDERS[name], config

    def callback_url(self, name: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/api/v1/auth/oauth/{name}/callback"

    def _client(self, spec: ProviderSpec, config: OAuthProvider, now: dt.datetime):  # noqa: ANN202
        secret = config.client_secret
        if not secret and config.private_key:
            secret = apple_client_secret(
                client_id=config.client_id,
                team_id=config.team_id,
                key_id=config.key_id,
                private_key=config.private_key,
                now=now,
            )
        # Not closed after use: closing an httpx client would close the shared transport.
        return self._client_class(
            client_id=config.client_id,
            client_secret=secret,
            token_endpoint_auth_method=spec.token_auth_method,
            scope=config.scope or spec.scope,
            redirect_uri=self.callback_url(spec.name),
            code_challenge_method="S256",
            timeout=PROVIDER_TIMEOUT_S,
            transport=self._transport,
        )

    # -- start ---------------------------------------------------------------------------------------------------

    def start(
        self,
        *,
        session: Session,
        provider: str,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        link_user: User | None,
        now: dt.datetime,
    ) -> tuple[str, int]:
        """Record a new flow and return the provider's authorization URL and its lifetime in seconds.

        Raises:
            ServiceError: 404 when the provider is not enabled.
        """
        spec, config = self._provider(provider)
        session.execute(delete(OAuthFlow).where(OAuthFlow.expires_at < now - FLOW_RETENTION))
        provider_state, verifier = new_opaque_token(), secrets.token_urlsafe(64)
        lifetime = dt.timedelta(minutes=self.settings.oauth_flow_minutes)
        session.add(
            OAuthFlow(
                state=token_hash(provider_state),
                provider=provider,
                code_verifier=verifier,
                client_redirect_uri=redirect_uri,
                client_state=state,
                client_code_challenge=code_challenge,
                link_user_id=link_user.id if link_user is not None else None,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        session.commit()
        client = self._client(spec, config, now)
        url, _ = client.create_authorization_url(
            config.authorize_url or spec.authorize_url,
            state=provider_state,
            code_verifier=verifier,
            **spec.authorize_params,
        )
        return url, int(lifetime.total_seconds())

    # -- provider callback ---------------------------------------------------------------------------------------

    def callback(
        self, *, db_sessions: sessionmaker[Session], provider: str, params: dict[str, str], now: dt.datetime
    ) -> str:
        """Handle the provider's redirect; returns where to send the browser (the app's loopback redirect).

        The flow is claimed first (so a state works once), the provider is called outside any database
        transaction, and the account is settled in a second short transaction.

        Raises:
            CallbackError: the state is missing, unknown, for another provider, already used or expired.
        """
        flow = self._claim(db_sessions, provider, params.get("state", ""), now)
        error = params.get("error")
        if error or not params.get("code"):
            # Only the standard codes the app can act on pass through; anything else reads as a refusal.
            if error not in ("access_denied", "temporarily_unavailable"):
                error = "access_denied" if error else "invalid_request"
            return _to_app(flow, error=error, error_description="The sign-in was cancelled or refused.")
        try:
            identity = self._identity(provider, params["code"], flow.code_verifier, now)
        except ProviderError as exc:
            _log.warning("provider sign-in failed", extra={"provider": provider, "reason": str(exc)})
            return _to_app(
                flow,
                error="server_error",
                error_description=f"{PROVIDERS[provider].title} did not complete the sign-in; try again.",
            )
        if identity.name is None and provider == "apple":
            identity = ProviderIdentity(identity.subject, identity.email, apple_user_name(params.get("user")))
        try:
            grant = self._settle(db_sessions, flow, identity, now)
        except ServiceError as exc:
            return _to_app(flow, error="access_denied", error_description=exc.detail)
        return _to_app(flow, code=grant)

    def _claim(self, db_sessions: sessionmaker[Session], provider: str, state: str, now: dt.datetime) -> Flow:
        if not state or len(state) > 255:
            raise CallbackError("The sign-in response has no state.")
        with write_session(db_sessions) as session:
            row = session.scalar(select(OAuthFlow).where(OAuthFlow.state == token_hash(state)))
            if row is None or row.provider != provider:
                raise CallbackError("This sign-in is unknown to the server.")
            claimed = session.execute(
                update(OAuthFlow).where(OAuthFlow.id == row.id, OAuthFlow.callback_at.is_(None)).values(callback_at=now)
            )
            if claimed.rowcount != 1:
                raise CallbackError("This sign-in response was already used.")
            if row.expires_at <= now:
                raise CallbackError("This sign-in took too long and has expired.")
            return Flow(
                row.id, row.provider, row.code_verifier, row.client_redirect_uri, row.client_state, row.link_user_id
            )

    def _identity(self, provider: str, code: str, verifier: str, now: dt.datetime) -> ProviderIdentity:
        """Redeem the provider's code (with the server's PKCE verifier) and read who signed in."""
        spec, config = self._provider(provider)
        from authlib.integrations.base_client import OAuthError  # lazy: authlib

        try:
            client = self._client(spec, config, now)
            token = client.fetch_token(
                config.token_url or spec.token_url, code=code, code_verifier=verifier, grant_type="authorization_code"
            )
            if spec.identity_from == "id_token":
                document = id_token_claims(spec, token.get("id_token"), client_id=config.client_id, now=now)
            else:
                response = client.get(config.userinfo_url or spec.userinfo_url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
            return identity_from(spec, document)
        except (OAuthError, httpx.HTTPError, IdentityError, ValueError, KeyError) as exc:
            raise ProviderError(f"{type(exc).__name__}: {exc}") from exc

    def _settle(
        self, db_sessions: sessionmaker[Session], flow: Flow, identity: ProviderIdentity, now: dt.datetime
    ) -> str:
        """Find, link or create the account; store a one-time grant for the app and return it."""
        for attempt in (1, 2):  # a concurrent first sign-in of the same subject may win the insert: look again
            try:
                with write_session(db_sessions) as session:
                    user = _account_for(session, flow, identity)
                    grant = new_opaque_token()
                    session.execute(
                        update(OAuthFlow)
                        .where(OAuthFlow.id == flow.id)
                        .values(grant_hash=token_hash(grant), user_id=user.id)
                    )
                    return grant
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- code exchange -------------------------------------------------------------------------------------------

    def redeem(
        self, *, session: Session, code: str, code_verifier: str, redirect_uri: str, now: dt.datetime
    ) -> tuple[User, str]:
        """The account a sign-in code stands for and the refresh-token family to issue in; the code is spent.

        A code presented again revokes the tokens issued for it (RFC 6749 section 4.1.2).

        Raises:
            ServiceError: 400 for an unknown, expired or spent code, a wrong verifier or another redirect_uri.
        """
        flow = session.scalar(select(OAuthFlow).where(OAuthFlow.grant_hash == token_hash(code)))
        if flow is None or flow.user_id is None or flow.callback_at is None:
            raise INVALID_GRANT
        family = str(uuid.uuid5(uuid.NAMESPACE_URL, f"eyevsai:oauth-flow:{flow.id}:{flow.grant_hash}"))
        if flow.redeemed_at is not None:
            accounts.revoke_family(session=session, family=family, now=now)
            raise INVALID_GRANT
        if now > min(flow.expires_at, flow.callback_at + GRANT_LIFETIME):
            raise INVALID_GRANT
        if not (
            hmac.compare_digest(s256_challenge(code_verifier), flow.client_code_challenge)
            and hmac.compare_digest(redirect_uri, flow.client_redirect_uri)
        ):
            raise INVALID_GRANT
        spent = session.execute(
            update(OAuthFlow).where(OAuthFlow.id == flow.id, OAuthFlow.redeemed_at.is_(None)).values(redeemed_at=now)
        )
        if spent.rowcount != 1:
            raise INVALID_GRANT
        user = session.get(User, flow.user_id)
        if user is None or not user.is_active:
            session.commit()
            raise INVALID_GRANT
        _link_pending(session, flow, user)
        return user, family


def _account_for(session: Session, flow: Flow, identity: ProviderIdentity) -> User:
    """The user this identity signs in as: by (provider, subject) only; for a link flow, the flow's user.

    A link flow only notes the identity here (see the module docstring); `_link_pending` links it at the code
    exchange.

    Raises:
        ServiceError: 409 when the identity belongs to another account than the one linking it; 403 for a
        deactivated account.
    """
    linked = session.scalar(
        select(OAuthIdentity).where(OAuthIdentity.provider == flow.provider, OAuthIdentity.subject == identity.subject)
    )
    if flow.link_user_id is not None:
        user = session.get(User, flow.link_user_id)
        if user is None or not user.is_active:
            raise ServiceError(403, "This account cannot sign in.")
        if linked is not None and linked.user_id != user.id:
            raise _already_linked(flow.provider)
        if linked is None:
            session.merge(OAuthPendingLink(flow_id=flow.id, subject=identity.subject, email=identity.email))
        return user
    if linked is not None:
        user = session.get(User, linked.user_id)
        if user is None or not user.is_active:
            raise ServiceError(403, "This account cannot sign in.")
        return user
    # Never matched by email: the same address at a provider is not proof of owning an account here.
    name = clean_display_name(identity.name or "") or f"Player-{secrets.token_hex(3)}"
    user = accounts.create_user(session=session, display_name=name)
    accounts.link_identity(
        session=session, user=user, provider=flow.provider, subject=identity.subject, email=identity.email
    )
    return user


def _already_linked(provider: str) -> ServiceError:
    return ServiceError(409, f"This {PROVIDERS[provider].title} account is already linked to another player account.")


def _link_pending(session: Session, flow: OAuthFlow, user: User) -> None:
    """Link the identity a link flow's callback noted, now that its initiator presented the PKCE verifier.

    Raises:
        ServiceError: 409 when the identity was linked to another account in the meantime.
    """
    pending = session.get(OAuthPendingLink, flow.id)
    if pending is None:
        return
    session.delete(pending)
    taken = session.scalar(
        select(OAuthIdentity).where(OAuthIdentity.provider == flow.provider, OAuthIdentity.subject == pending.subject)
    )
    if taken is not None and taken.user_id != user.id:
        session.commit()  # the code stays spent
        raise _already_linked(flow.provider)
    if taken is None:
        accounts.link_identity(
            session=session, user=user, provider=flow.provider, subject=pending.subject, email=pending.email
        )
    user.is_guest = False  # a guest linking a provider is upgraded; its id, and so its history, stay


def _to_app(flow: Flow, **params: str) -> str:
    """The app's loopback redirect with the result and the app's own state (RFC 6749 section 4.1.2)."""
    return f"{flow.client_redirect_uri}?{urlencode({**params, 'state': flow.client_state})}"
