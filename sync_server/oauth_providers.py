"""The OAuth providers the server knows: public endpoints, scopes and where each keeps the account's subject."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

import jwt


@dataclass(frozen=True)
class ProviderSpec:
    """How to sign in with one provider (authorization code + PKCE).

    `subject_path`/`email_path`/`name_path` are dotted paths into the user document: the userinfo response, or the
    ID token's claims when `identity_from` is "id_token" (Apple has no userinfo endpoint).
    """

    name: str
    title: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str
    subject_path: str = "sub"
    email_path: str = "email"
    name_path: str = "name"
    identity_from: str = "userinfo"  # or "id_token"
    token_auth_method: str = "client_secret_post"
    id_token_issuer: str = ""
    authorize_params: dict[str, str] = field(default_factory=dict)


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            "google",
            "Google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            "https://openidconnect.googleapis.com/v1/userinfo",
            "openid email profile",
        ),
        ProviderSpec(
            "github",
            "GitHub",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            "https://api.github.com/user",
            "read:user user:email",
            subject_path="id",
            name_path="login",
        ),
        ProviderSpec(
            "discord",
            "Discord",
            "https://discord.com/oauth2/authorize",
            "https://discord.com/api/oauth2/token",
            "https://discord.com/api/users/@me",
            "identify email",
            subject_path="id",
            name_path="username",
        ),
        ProviderSpec(
            "facebook",
            "Facebook",
            "https://www.facebook.com/v19.0/dialog/oauth",
            "https://graph.facebook.com/v19.0/oauth/access_token",
            "https://graph.facebook.com/me?fields=id,name,email",
            "public_profile email",
            subject_path="id",
        ),
        ProviderSpec(
            "x",
            "X",
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
            "https://api.x.com/2/users/me",
            "users.read tweet.read",
            subject_path="data.id",
            email_path="data.email",
            name_path="data.name",
            token_auth_method="client_secret_basic",
        ),
        # Apple posts the callback as a form when name/email are asked for, and has no userinfo endpoint: the
        # subject comes from the ID token the server received directly from Apple's token endpoint over TLS.
        ProviderSpec(
            "apple",
            "Apple",
            "https://appleid.apple.com/auth/authorize",
            "https://appleid.apple.com/auth/token",
            "",
            "name email",
            identity_from="id_token",
            id_token_issuer="https://appleid.apple.com",
            authorize_params={"response_mode": "form_post"},
        ),
    )
}


def dig(document: object, path: str) -> object:
    """The value at a dotted path of nested dicts, or None."""
    value = document
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class ProviderIdentity:
    """Who signed in, as the provider says: the stable subject, and informational email and name."""

    subject: str
    email: str | None
    name: str | None


class IdentityError(ValueError):
    """The provider's answer does not name an account (no subject, malformed document or ID token)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = _CONTROL.sub("", value).strip()
    return value[:limit] or None


def identity_from(spec: ProviderSpec, document: object) -> ProviderIdentity:
    """The identity in a userinfo document or in ID token claims, read at the spec's paths.

    Raises:
        IdentityError: no usable subject (a string or an integer, at most 255 characters).
    """
    subject = dig(document, spec.subject_path)
    if isinstance(subject, bool) or not isinstance(subject, str | int):
        raise IdentityError(f"{spec.title} did not say which account signed in (no {spec.subject_path!r}).")
    subject = str(subject)
    if not subject or len(subject) > 255:
        raise IdentityError(f"{spec.title} returned an unusable account id.")
    email = _text(dig(document, spec.email_path), 254)
    name = _text(dig(document, spec.name_path), 40)
    return ProviderIdentity(subject, email if email and "@" in email else None, name)


def id_token_claims(spec: ProviderSpec, id_token: object, *, client_id: str, now: dt.datetime) -> dict:
    """The claims of an ID token received directly from the provider's token endpoint.

    The token came over the server's own TLS connection to the token endpoint, so, as OpenID Connect Core
    section 3.1.3.7 (step 6) allows, TLS stands in for the signature; issuer, audience and expiry are checked.

    Raises:
        IdentityError: a missing or malformed token, another issuer or audience, or an expired token.
    """
    if not isinstance(id_token, str):
        raise IdentityError(f"{spec.title} returned no ID token.")
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise IdentityError(f"{spec.title} returned a malformed ID token.") from exc
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if spec.id_token_issuer and claims.get("iss") != spec.id_token_issuer:
        raise IdentityError(f"{spec.title}'s ID token has another issuer.")
    if client_id not in audiences:
        raise IdentityError(f"{spec.title}'s ID token is for another client.")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now.timestamp():
        raise IdentityError(f"{spec.title}'s ID token has expired.")
    return claims


def apple_user_name(raw: str | None) -> str | None:
    """The name Apple posts once, beside the code, on an account's first sign-in (`user` = JSON).

    It travels through the browser, so it is used only as a display name, never to identify anyone.
    """
    try:
        name = json.loads(raw or "null")["name"]
        return _text(
            " ".join(part for part in (name.get("firstName"), name.get("lastName")) if isinstance(part, str)), 40
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


APPLE_AUDIENCE = "https://appleid.apple.com"


def apple_client_secret(
    *, client_id: str, team_id: str, key_id: str, private_key: str, now: dt.datetime, minutes: int = 10
) -> str:
    """Sign in with Apple's client secret: an ES256 JWT from the team's key (Apple accepts up to six months)."""
    claims = {
        "iss": team_id,
        "sub": client_id,
        "aud": APPLE_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": key_id})
