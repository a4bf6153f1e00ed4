"""OAuth sign-in bodies: the client's loopback redirect (RFC 8252), its state and its PKCE pair (RFC 7636)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from sync_server.schemas.common import OpaqueToken, StrictBody

LOOPBACK_HOSTS = ("127.0.0.1", "::1")


def _loopback(uri: str) -> str:
    """RFC 8252 section 7.3: http on a loopback IP literal, with the port the app listens on; nothing else."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise ValueError("must be a URL like http://127.0.0.1:<port>/callback") from None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or port is None or port == 0:
        raise ValueError("must be a loopback redirect http://127.0.0.1:<port>/<path> (or http://[::1]:<port>/...)")
    if parts.username or parts.password or parts.query or parts.fragment or "#" in uri:
        raise ValueError("must have no user, query or fragment")
    return uri


LoopbackUri = Annotated[
    str, StringConstraints(min_length=16, max_length=255, pattern=r"^http://[^\s]+$"), AfterValidator(_loopback)
]
ClientState = Annotated[str, StringConstraints(min_length=8, max_length=255, pattern=r"^[A-Za-z0-9._~-]+$")]
# RFC 7636 section 4.1/4.2: 43-128 unreserved characters; an S256 challenge is always 43 base64url characters.
CodeVerifier = Annotated[str, StringConstraints(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]
CodeChallenge = Annotated[str, StringConstraints(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]


class OAuthProviderPublic(BaseModel):
    name: str = Field(description="Use in the sign-in paths, e.g. github.")
    title: str = Field(description="What to show on the button, e.g. GitHub.")


class OAuthStart(StrictBody):
    """Where the browser returns to the app, the app's state, and the challenge of the app's PKCE verifier."""

    redirect_uri: LoopbackUri = Field(
        description="The app's loopback listener, e.g. http://127.0.0.1:53123/callback "
        "(RFC 8252 section 7.3; any port)."
    )
    state: ClientState = Field(description="Random; handed back with the sign-in code. Check it.")
    code_challenge: CodeChallenge = Field(description="BASE64URL(SHA-256(code_verifier)) without padding.")
    code_challenge_method: Literal["S256"] = "S256"


class OAuthStarted(BaseModel):
    authorization_url: str = Field(description="Open this in the system browser.")
    expires_in: int = Field(description="Seconds the user has to finish signing in.")


class OAuthTokenRequest(StrictBody):
    """The one-time sign-in code from the loopback redirect, with the verifier the challenge was made from."""

    code: OpaqueToken
    code_verifier: CodeVerifier
    redirect_uri: LoopbackUri = Field(description="The same redirect_uri as at the start.")
