"""The small browser pages a mailed link opens: confirm an email, choose a new password, confirm a deletion.

Opening a link changes nothing: the page asks for a click (a form posted back here), because mail scanners and
link previews open links on their own. The token travels in the form, never in a cookie, so there is nothing
for another site to forge; the pages load nothing from elsewhere and send no Referer.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import HTMLResponse

from sync_server import account_tokens, accounts
from sync_server.api.deps import AppStateDep, AuthRateLimit, SessionDep, hash_outside_transaction
from sync_server.api.errors import responses
from sync_server.schemas.accounts import check_password

router = APIRouter(prefix="/mail", tags=["account mail"])
MAX_FORM_BYTES = 4096
Action = Annotated[str, Path(pattern="^(verify-email|reset-password|delete-account)$")]
TokenQuery = Annotated[str, Query(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_FORMS = {
    "verify-email": ("Confirm your email", "", "Confirm this email"),
    "reset-password": (
        "Choose a new password",
        '<p><label>New password <input type="password" name="password" minlength="8" maxlength="128" '
        'autocomplete="new-password" required></label></p>',
        "Set the new password",
    ),
    "delete-account": (
        "Delete your EyeVsAI account",
        "<p>Your account, its games and its leaderboard places are deleted for good.</p>",
        "Delete my account",
    ),
}
_PAGE_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}},
    **responses(400, 409, 422, 429),
}


def _page(title: str, body: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    title = html.escape(title)
    document = f"<!doctype html><meta charset=utf-8><title>EyeVsAI: {title}</title><h1>{title}</h1>{body}"
    return HTMLResponse(document, status_code=status_code, headers=_HEADERS)


def _message(title: str, text: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    return _page(title, f"<p>{html.escape(text)}</p>", status_code)


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields (url-encoded, bounded); empty for anything else."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    try:
        return dict(parse_qsl(body[:MAX_FORM_BYTES].decode("utf-8"), max_num_fields=5))
    except (UnicodeDecodeError, ValueError):
        return {}


FormFields = Annotated[dict[str, str], Depends(_form)]


@router.get("/{action}", response_class=HTMLResponse, responses=_PAGE_RESPONSES)
def show(action: Action, token: TokenQuery) -> HTMLResponse:
    """The page a mailed link opens: a form that does the action when posted."""
    title, fields, button = _FORMS[action]
    body = (
        f'<form method="post" action="{html.escape(action)}"><input type="hidden" name="token" '
        f'value="{html.escape(token)}">{fields}<p><button type="submit">{html.escape(button)}</button></p></form>'
    )
    return _page(title, body)


@router.post("/{action}", response_class=HTMLResponse, responses=_PAGE_RESPONSES, dependencies=[AuthRateLimit])
def act(action: Action, form: FormFields, app_state: AppStateDep, session: SessionDep) -> HTMLResponse:
    """Confirm the email, set the new password or delete the account; answers with a page saying which."""
    token, now = form.get("token", ""), app_state.clock()
    try:
        if action == "verify-email":
            user = account_tokens.confirm_email(session=session, token=token, now=now)
            return _message("Email confirmed", f"{user.email} now signs in to your EyeVsAI account.")
        if action == "delete-account":
            account_tokens.confirm_deletion(session=session, token=token, now=now)
            return _message("Account deleted", "Your EyeVsAI account and its games are deleted.")
        return _reset_password(form, app_state, session)
    except accounts.AccountError as exc:
        return _message("This did not work", exc.detail, exc.status)


def _reset_password(form: dict[str, str], app_state: AppStateDep, session: SessionDep) -> HTMLResponse:
    token, password, now = form.get("token", ""), form.get("password", ""), app_state.clock()
    user, _row = account_tokens.token_owner(
        session=session, token=token, purpose=account_tokens.RESET_PASSWORD, now=now
    )
    try:
        if not 8 <= len(password) <= 128:
            raise ValueError("Passwords have 8 to 128 characters.")
        check_password(password, user.email, user.display_name)
    except ValueError as exc:  # the link still works: go back and choose another
        return _message("Choose another password", str(exc), status.HTTP_422_UNPROCESSABLE_CONTENT)
    account_tokens.reset_password(
        session=session,
        token=token,
        password_hash=hash_outside_transaction(session, app_state.passwords, password),
        now=now,
    )
    return _message("Password changed", "Sign in with your new password; every device was signed out.")
