"""The OAuth providers the server knows: public endpoints, scopes and where each keeps the account's subject."""

from __future__ import annotations

from dataclasses import dataclass, field


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
        ProviderSpec("google", "Google", "https://accounts.google.com/o/oauth2/v2/auth",
                     "https://oauth2.googleapis.com/token", "https://openidconnect.googleapis.com/v1/userinfo",
                     "openid email profile"),
        ProviderSpec("github", "GitHub", "https://github.com/login/oauth/authorize",
                     "https://github.com/login/oauth/access_token", "https://api.github.com/user",
                     "read:user user:email", subject_path="id", name_path="login"),
        ProviderSpec("discord", "Discord", "https://discord.com/oauth2/authorize",
                     "https://discord.com/api/oauth2/token", "https://discord.com/api/users/@me",
                     "identify email", subject_path="id", name_path="username"),
        ProviderSpec("facebook", "Facebook", "https://www.facebook.com/v19.0/dialog/oauth",
                     "https://graph.facebook.com/v19.0/oauth/access_token",
                     "https://graph.facebook.com/me?fields=id,name,email", "public_profile email", subject_path="id"),
        ProviderSpec("x", "X", "https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token",
                     "https://api.x.com/2/users/me", "users.read tweet.read", subject_path="data.id",
                     email_path="data.email", name_path="data.name", token_auth_method="client_secret_basic"),
        # Apple posts the callback as a form when name/email are asked for, and has no userinfo endpoint: the
        # subject comes from the ID token the server received directly from Apple's token endpoint over TLS.
        ProviderSpec("apple", "Apple", "https://appleid.apple.com/auth/authorize", "https://appleid.apple.com/auth/token",
                     "", "name email", identity_from="id_token", id_token_issuer="https://appleid.apple.com",
                     authorize_params={"response_mode": "form_post"}),
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
