"""The signed-in account: read and change it, confirm its email again, delete it."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response, status
from fastapi.responses import JSONResponse

from sync_server import account_tokens, accounts
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep
from sync_server.api.errors import http_error, responses
from sync_server.api.routes.auth import mail_email_confirmation
from sync_server.mail import mailer_for
from sync_server.schemas.accounts import Accepted, UserPublic, UserUpdate

router = APIRouter(prefix="/me", tags=["account"])
CONFIRMATION_SENT = Accepted(detail="If an address is waiting for confirmation, a new link is on its way to it.")
DELETION_MAILED = Accepted(detail="We mailed a link to the account's email; the account is deleted when it is opened.")


@router.get("", responses=responses(401, 429))
def read_me(user: CurrentUser) -> UserPublic:
    """The signed-in account."""
    return accounts.user_public(user)


@router.patch("", responses=responses(400, 401, 403, 429))
def update_me(
    body: UserUpdate, user: CurrentUser, app_state: AppStateDep, session: SessionDep, background: BackgroundTasks
) -> UserPublic:
    """Change the display name; the email or password too, with the current password.

    A new email is mailed a confirmation link and replaces the old one when it is confirmed; the answer is the
    same whether or not another account holds it.
    """
    try:
        user = accounts.update_user(
            session=session,
            passwords=app_state.passwords,
            user=user,
            display_name=body.display_name,
            email=body.email,
            new_password=body.new_password,
            current_password=body.current_password,
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None
    if body.email is not None and body.email != user.email:
        mail_email_confirmation(app_state, session, background, user, body.email)
    return accounts.user_public(user)


@router.post("/verify-email", status_code=status.HTTP_202_ACCEPTED, responses=responses(401, 429))
def resend_confirmation(
    user: CurrentUser, app_state: AppStateDep, session: SessionDep, background: BackgroundTasks
) -> Accepted:
    """Mail a new confirmation link to the address the account is waiting to confirm."""
    outgoing = account_tokens.resend_confirmation(
        session=session, user=user, public_url=app_state.settings.public_url, now=app_state.clock()
    )
    if outgoing is not None:
        background.add_task(mailer_for(app_state.settings).deliver, outgoing)
    return CONFIRMATION_SENT


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={202: {"model": Accepted, "description": "A confirmation link was mailed."}, **responses(401, 429)},
)
def delete_me(user: CurrentUser, app_state: AppStateDep, session: SessionDep, background: BackgroundTasks) -> Response:
    """Delete the account with its games and board places.

    An account with a confirmed email is deleted from the link mailed to it (202); any other account (a guest,
    an OAuth-only account) has no mailbox to ask and is deleted at once (204).
    """
    outgoing = account_tokens.request_deletion(
        session=session, user=user, public_url=app_state.settings.public_url, now=app_state.clock()
    )
    if outgoing is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    background.add_task(mailer_for(app_state.settings).deliver, outgoing)
    return JSONResponse(DELETION_MAILED.model_dump(), status_code=status.HTTP_202_ACCEPTED)
