"""`eyevsai sync`: upload the outbox without opening a window (CLI output code: it prints)."""

from __future__ import annotations

import sys

from desktop.services.online.connection import OnlineConnection
from desktop.services.online.outbox import Result, UploadOutcome, drain

EXIT_OK, EXIT_PENDING, EXIT_NOT_READY = 0, 1, 2


def run_sync(online: OnlineConnection) -> int:
    """Upload every due session. Exit codes: 0 all synced; 1 some wait (offline) or were refused; 2 no server set or
    not signed in."""
    if online.client is None:
        print("eyevsai: no sync server is set; the game is offline. Set one with --server URL.", file=sys.stderr)
        return EXIT_NOT_READY
    if not online.is_signed_in:
        print(
            f"eyevsai: not signed in to {online.client.base_url}. Sign in from the game's home screen first.",
            file=sys.stderr,
        )
        return EXIT_NOT_READY

    def report(outcome: UploadOutcome) -> None:
        session = outcome.session_id[:8]
        if outcome.result is Result.sent:
            print(f"session {session}: {'already on the server' if outcome.already_stored else 'uploaded'}", flush=True)
        else:
            print(f"session {session}: {outcome.result.value}: {outcome.message}", flush=True)

    online.outbox.retry_now()  # asked for explicitly: do not wait for the backoff
    status = drain(online.outbox, online.client, limit=1000, on_outcome=report)
    print(status.describe())
    return EXIT_OK if not status.pending and not status.rejected else EXIT_PENDING
