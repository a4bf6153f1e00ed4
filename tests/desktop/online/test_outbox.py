"""The outbox: offline sessions upload once signed in, idempotently, with backoff that survives restarts."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

from desktop.services.online.client import ServerClient
from desktop.services.online.connection import OnlineConnection
from desktop.services.online.outbox import BACKOFF_CAP_S, Outbox, Result, backoff_delay, drain
from desktop.services.online.tokens import TokenStore
from desktop.services.store import SCHEMA_VERSION, Store
from tests.desktop.online.conftest import play_offline


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    assert [backoff_delay(n, lambda: 0.0) for n in (1, 2, 3, 4)] == [2.5, 5.0, 10.0, 20.0]
    assert [backoff_delay(n, lambda: 1.0) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert backoff_delay(40, lambda: 1.0) == BACKOFF_CAP_S


def test_play_offline_go_online_and_the_outbox_drains_once(
    live_server, data_dir: Path, keyring_backend, catalog
) -> None:
    store = Store(data_dir / "eyevsai.db")
    online = OnlineConnection(data_dir, store, keyring_backend=keyring_backend)
    assert online.client is None  # offline: nothing to talk to
    classic = play_offline(store, catalog)
    blitz = play_offline(store, catalog, mode="blitz")
    assert online.sync().pending == 2  # offline: the sessions wait

    online.set_server(live_server.url)
    online.signed_in(online.client.guest(display_name="Ann"))
    status = online.sync()
    assert (status.pending, status.sent, status.rejected) == (0, 2, 0)
    assert status.describe() == "All 2 finished sessions synced"
    history = {s["id"]: s for s in online.client.sessions()}
    assert set(history) == {classic.session_id, blitz.session_id}
    uploaded = history[classic.session_id]
    assert uploaded["is_verified"] is False and uploaded["score"] == classic.player_points
    assert uploaded["correct"] == classic.player_correct and uploaded["rounds_played"] == 10
    board = online.client.leaderboard("fashion-mnist", "medium", "all")
    assert all(e["session_id"] != classic.session_id for e in board["entries"])  # offline sessions never rank

    store.db["outbox"].update(1, {"state": "pending"})  # as if the game died before it marked the upload sent
    assert online.sync().sent == 2
    assert live_server.copies_of(classic.session_id) == 1  # sent twice, stored once
    online.close()
    store.close()


def test_a_round_that_ran_out_of_time_uploads(live_server, data_dir: Path, keyring_backend, catalog) -> None:
    """The game's clock may read 15.04 s for a timed-out 15 s round; the upload keeps to the server's bounds."""
    store = Store(data_dir / "eyevsai.db")
    session = play_offline(store, catalog, right=3)
    store.db.execute("UPDATE rounds SET elapsed_s = 15.04 WHERE session_id = ? AND number = 10", [session.session_id])
    online = OnlineConnection(data_dir, store, keyring_backend=keyring_backend)
    online.set_server(live_server.url)
    online.signed_in(online.client.guest())
    assert online.sync().sent == 1
    online.close()
    store.close()


def test_failures_back_off_and_the_wait_survives_a_restart(data_dir: Path, catalog) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens here: the server is down
    path, clock = data_dir / "eyevsai.db", Clock()
    store = Store(path)
    play_offline(store, catalog)
    tokens = TokenStore(url, data_dir)
    tokens.save("access", "refresh-token-0123456789")
    client = ServerClient(url, tokens)
    outbox = Outbox(store, now=clock, rng=lambda: 1.0)
    status = drain(outbox, client)
    assert status.pending == 1 and status.next_attempt == clock.now + dt.timedelta(seconds=5)
    assert "Cannot reach the server" in status.last_error
    clock.now += dt.timedelta(seconds=6)
    assert drain(outbox, client).next_attempt == clock.now + dt.timedelta(seconds=10)  # doubled
    store.close()

    restarted = Outbox(Store(path), now=clock, rng=lambda: 1.0)  # the game restarts: the wait is remembered
    assert restarted.status().next_attempt == clock.now + dt.timedelta(seconds=10)
    assert restarted.due() == []
    clock.now += dt.timedelta(seconds=11)
    assert [item.attempts for item in restarted.due()] == [2]
    client.close()


def test_a_session_the_server_refuses_is_kept_and_explained(
    live_server, data_dir: Path, keyring_backend, catalog
) -> None:
    store = Store(data_dir / "eyevsai.db")
    session = play_offline(store, catalog)
    online = OnlineConnection(data_dir, store, keyring_backend=keyring_backend)
    online.set_server(live_server.url)
    thief = ServerClient(live_server.url, TokenStore(live_server.url, data_dir / "other"))
    thief.guest()
    item = online.outbox.due()[0]
    thief.upload_session(item.body)  # another account already used this session's id
    online.signed_in(online.client.guest())
    status = online.sync()
    assert (status.pending, status.rejected) == (0, 1)
    assert "refused by the server" in status.describe() and "already used" in status.last_error
    assert store.history()[0]["id"] == session.session_id  # the result itself stays in the local history
    online.close()
    thief.close()
    store.close()


def test_an_old_database_gets_the_outbox_columns(tmp_path: Path) -> None:
    import sqlite_utils

    from desktop.services.store import MIGRATIONS

    path = tmp_path / "v1.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db["outbox"].insert_all(
        [
            {"kind": "session", "payload": '{"session": "a"}', "created": "x", "sent": "y"},
            {"kind": "session", "payload": '{"session": "b"}', "created": "x"},
            {"kind": "session", "payload": '{"session": "b"}', "created": "x"},
        ]
    )
    db.execute("PRAGMA user_version = 1")
    db.close()
    store = Store(path)
    assert store.version == SCHEMA_VERSION
    rows = [(r["session_id"], r["state"], r["attempts"]) for r in store.db["outbox"].rows]
    assert rows == [("a", "sent", 0), ("b", "pending", 0)]  # the duplicate of b is gone
    assert Result.sent.value == "sent"
    store.close()


def test_offline_answers_go_to_the_crowd_statistics_only_when_the_player_opted_in(data_dir: Path, catalog) -> None:
    from desktop.services.online.settings import OnlineSettings, read_settings, write_settings

    store = Store(data_dir / "eyevsai.db")
    play_offline(store, catalog)
    online = OnlineConnection(data_dir, store)
    assert online.settings.share_crowd_answers is False  # off by default
    assert online.outbox.due()[0].body["share_answers"] is False
    write_settings(data_dir, OnlineSettings(share_crowd_answers=True))
    online.settings = read_settings(data_dir)  # read when the session is sent, not when it was played
    assert online.settings.share_crowd_answers is True
    assert online.outbox.due()[0].body["share_answers"] is True
    online.close()
    store.close()
