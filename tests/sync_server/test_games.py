"""Offline session upload (idempotent, unverified, bounded) and the player's history."""

from __future__ import annotations

import uuid

import pytest

from tests.sync_server.helpers import ApiClient

SESSIONS = "/api/v1/sessions"
OPTIONS = ["bag", "coat", "dress", "shirt"]


def upload_body(rounds: int = 10, *, mode: str = "classic", elapsed_ms: int = 1500, **extra) -> dict:
    return {
        "client_session_id": str(uuid.uuid4()),
        "pack_id": "fashion-mnist",
        "difficulty": "medium",
        "mode": mode,
        "model_id": "fashion-mnist-shallow-svm",
        "model_sha256": "a" * 64,
        "started_at": "2026-11-18T11:50:00Z",
        "finished_at": "2026-11-18T11:52:00+00:00",
        "rounds": [
            {
                "image_sha256": f"{n:064x}",
                "options": OPTIONS,
                "truth": "coat",
                "player_answer": "coat" if n % 2 else "bag",
                "ai_answer": "coat",
                "ai_confidence": 812,
                "elapsed_ms": elapsed_ms,
            }
            for n in range(rounds)
        ],
        **extra,
    }


def test_upload_is_idempotent_and_scored_by_the_server(api: ApiClient) -> None:
    token = api.register()["access_token"]
    body = upload_body()
    first = api.post(SESSIONS, token=token, json=body)
    assert first.status_code == 201, first.text
    stored = first.json()
    # 5 correct, medium (20) + speed bonus 5 (1.5 s): 125; the client never sends a score.
    assert stored["is_verified"] is False and stored["score"] == 125 and stored["correct"] == 5
    assert stored["ai_correct"] == 10 and stored["id"] == body["client_session_id"]
    again = api.post(SESSIONS, token=token, json=body)
    assert again.status_code == 200 and again.json() == stored
    history = api.get(SESSIONS, token=token).json()
    assert [s["id"] for s in history["items"]] == [stored["id"]] and history["next_cursor"] is None
    detail = api.get(f"{SESSIONS}/{stored['id']}", token=token).json()
    assert len(detail["rounds"]) == 10 and detail["rounds"][1]["points"] == 25 and detail["rounds"][0]["points"] == 0


def test_unverified_sessions_stay_off_the_global_boards(api: ApiClient) -> None:
    token = api.register()["access_token"]
    assert api.post(SESSIONS, token=token, json=upload_body()).status_code == 201
    board = api.get("/api/v1/leaderboards/fashion-mnist/medium/all").json()
    assert board["entries"] == [] and board["total"] == 0


def test_a_session_id_belongs_to_one_account(api: ApiClient) -> None:
    body = upload_body()
    assert api.post(SESSIONS, token=api.register()["access_token"], json=body).status_code == 201
    other = api.register("eve@example.org")["access_token"]
    assert api.post(SESSIONS, token=other, json=body).status_code == 409
    assert api.get(f"{SESSIONS}/{body['client_session_id']}", token=other).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"rounds": 11},
        {"elapsed_ms": 15_001},
        {"mode": "blitz", "rounds": 41},  # 41 × 1.5 s > 60 s
        {"mode": "ranked"},
        {"rounds": 0},
    ],
)
def test_implausible_uploads_are_refused(api: ApiClient, change: dict) -> None:
    token = api.register()["access_token"]
    body = upload_body(**change)
    assert api.post(SESSIONS, token=token, json=body).status_code == 422


def test_inconsistent_uploads_are_refused(api: ApiClient) -> None:
    token = api.register()["access_token"]
    cases = []
    body = upload_body()
    body["rounds"][0]["player_answer"] = "trouser"  # not among the options
    cases.append(body)
    body = upload_body()
    body["rounds"][1]["image_sha256"] = body["rounds"][0]["image_sha256"]
    cases.append(body)
    cases.append(upload_body(score=350))  # unknown field
    cases.append(upload_body(finished_at="2026-11-18T11:40:00Z"))  # before the start
    cases.append(upload_body(finished_at="2026-11-19T12:00:00Z"))  # in the future (server clock: 18th noon)
    cases.append(upload_body(started_at="2026-11-18T11:50:00"))  # no time zone
    body = upload_body()
    body["rounds"][0]["ai_confidence"] = 1001
    cases.append(body)
    for body in cases:
        response = api.post(SESSIONS, token=token, json=body)
        assert response.status_code == 422, body
        assert "Traceback" not in response.text


def test_uploads_need_a_token_and_a_sane_size(api: ApiClient) -> None:
    assert api.post(SESSIONS, json=upload_body()).status_code == 401
    token = api.register()["access_token"]
    huge = upload_body()
    huge["rounds"][0]["truth"] = "x" * 300_000
    response = api.post(SESSIONS, token=token, json=huge)
    assert response.status_code == 413 and "too large" in response.json()["detail"]


def test_history_pages_newest_first(api: ApiClient) -> None:
    token = api.register()["access_token"]
    ids = [api.post(SESSIONS, token=token, json=upload_body(2)).json()["id"] for _ in range(5)]
    first = api.get(SESSIONS, token=token, params={"limit": 2}).json()
    second = api.get(SESSIONS, token=token, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get(SESSIONS, token=token, params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [s["id"] for s in first["items"] + second["items"] + third["items"]] == ids[::-1]
    assert third["next_cursor"] is None
    assert api.get(SESSIONS, token=token, params={"cursor": "abc"}).status_code == 422
    assert api.get(SESSIONS, token=token, params={"limit": 101}).status_code == 422
    assert api.get(f"{SESSIONS}/{uuid.uuid4()}", token=token).status_code == 404


def test_a_guest_keeps_its_history_when_upgraded(api: ApiClient) -> None:
    guest = api.guest()
    token = guest["access_token"]
    stored = api.post(SESSIONS, token=token, json=upload_body()).json()
    api.post("/api/v1/auth/upgrade", token=token, json={"email": "g@example.org", "password": "guest pass"})
    api.confirm_email("g@example.org")
    login = api.post("/api/v1/auth/login", json={"email": "g@example.org", "password": "guest pass"}).json()
    history = api.get(SESSIONS, token=login["access_token"]).json()
    assert [s["id"] for s in history["items"]] == [stored["id"]]
