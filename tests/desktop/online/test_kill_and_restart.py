"""Killing the game (SIGKILL) in the middle of an upload neither loses nor duplicates the session on the server.

The uploader is the real `eyevsai sync` in a child process. The server holds the upload either before it sees it
(nothing stored yet) or after it stored it (the reply never reaches the game); the test kills the child there,
starts it again, and checks that the server holds exactly one copy and the game knows it is synced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.services.online.connection import OnlineConnection
from desktop.services.store import Store
from tests.desktop.online.conftest import play_offline

ROOT = Path(__file__).resolve().parents[3]


def _sync(data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EYEVSAI_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "sync"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
@pytest.mark.parametrize("moment", ["before", "after"], ids=["before-the-server-stores", "after-the-server-stored"])
def test_kill_mid_upload_then_restart_leaves_exactly_one_copy(
    live_server, data_dir: Path, catalog, moment: str
) -> None:
    store = Store(data_dir / "eyevsai.db")
    session = play_offline(store, catalog)
    online = OnlineConnection(data_dir, store)  # this machine has no keyring: the player allowed a token file
    online.set_server(live_server.url)
    online.allow_token_file(True)
    online.signed_in(online.client.guest())
    online.close()
    store.close()

    live_server.gate.hold(moment)
    child = _sync(data_dir)
    try:
        assert live_server.gate.reached.wait(30), child.communicate(timeout=5)[0]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        live_server.gate.hold(None)  # let the held request go on (its reply goes nowhere)
    assert child.returncode == -signal.SIGKILL
    assert live_server.copies_of(session.session_id) == (1 if moment == "after" else 0)

    again = _sync(data_dir)
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output
    expected = "already on the server" if moment == "after" else "uploaded"
    assert f"session {session.session_id[:8]}: {expected}" in output
    assert "All 1 finished session synced" in output
    assert live_server.copies_of(session.session_id) == 1
    reopened = Store(data_dir / "eyevsai.db")
    assert [r["state"] for r in reopened.db["outbox"].rows] == ["sent"]
    reopened.close()
