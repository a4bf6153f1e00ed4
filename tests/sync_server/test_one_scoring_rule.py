"""One scoring rule: the game and the server give every answer time the same points and the same time-out verdict.

Each boundary is played through the desktop's code path (`GameSession.answer`, float seconds from its clock) and
through the server's: ranked scoring (the server's own clock, advanced by the same time) and the re-scoring of an
offline upload (the answer as clicked, with the time in milliseconds, so the server must judge the time itself).
"""

from __future__ import annotations

import random
import uuid

import pytest

from desktop.core.session import GameSession, Opponent
from game_rules.deal import deal
from game_rules.modes import BLITZ, CLASSIC, Mode
from game_rules.scoring import to_ms
from tests.desktop.test_blitz_mashing import play_blitz
from tests.sync_server.helpers import ApiClient, FakeClock, import_bundled, round_truth

CLASSES = ["bag", "coat", "dress", "shirt"]
IMAGES = [(f"{i:064x}", CLASSES[i % len(CLASSES)]) for i in range(12)]
DIFFICULTY = "easy"  # base 10: points are 10 + the speed bonus when right and in time

# (what is checked, mode, seconds on the clock, expected (points, timed out))
BOUNDARIES = [
    ("an answer exactly at the 15 s limit is late", CLASSIC, 15.0, (0, True)),
    ("1.9996 s is 2.000 s: bonus 4, on both sides", CLASSIC, 1.9996, (14, False)),
    ("an answer at 0 s earns the full bonus", CLASSIC, 0.0, (15, False)),
    ("a blitz click at exactly 60 s is late", BLITZ, 60.0, (0, True)),
]
IDS = [case[0] for case in BOUNDARIES]


def desktop_verdict(mode: Mode, seconds: float) -> tuple[int, bool]:
    """Points and time-out of a right answer after `seconds`, as the game scores it."""
    session = GameSession.start(
        session_id=str(uuid.uuid4()),
        seed="one-rule",
        pack_id="p",
        mode=mode,
        opponent=Opponent("m", "Model", "e" * 64, DIFFICULTY),
        rounds=deal("one-rule", IMAGES, CLASSES, 1),
        probabilities={sha: dict.fromkeys(CLASSES, 0.25) for sha, _ in IMAGES},
        new_salt=lambda: "0" * 64,
    )
    result = session.answer(session.current_round().truth, seconds)
    return result.points, result.player_answer is None


def upload_verdict(api: ApiClient, token: str, mode: Mode, seconds: float) -> tuple[int, bool]:
    """Points and time-out the server gives a right answer after `seconds` in an uploaded session."""
    round_ = {
        "image_sha256": "a" * 64,
        "options": CLASSES,
        "truth": "coat",
        "player_answer": "coat",
        "ai_answer": "bag",
        "ai_confidence": 250,
        "elapsed_ms": to_ms(seconds),
    }
    body = {
        "client_session_id": str(uuid.uuid4()),
        "pack_id": "fashion-mnist",
        "difficulty": DIFFICULTY,
        "mode": mode.name,
        "model_id": "m",
        "started_at": "2026-11-18T11:50:00Z",
        "finished_at": "2026-11-18T11:52:00Z",
        "rounds": [round_],
    }
    response = api.post("/api/v1/sessions", token=token, json=body)
    assert response.status_code == 201, response.text
    stored = api.get(f"/api/v1/sessions/{body['client_session_id']}", token=token).json()["rounds"][0]
    return stored["points"], stored["player_answer"] is None


def ranked_verdict(api: ApiClient, clock: FakeClock, labels: dict[str, str], seconds: float) -> tuple[int, bool]:
    """Points and time-out the server gives a right ranked answer `seconds` after it dealt the round."""
    token = api.register(f"{uuid.uuid4().hex[:12]}@example.org")["access_token"]
    start = {"pack_id": "fashion-mnist", "difficulty": DIFFICULTY}
    game = api.post("/api/v1/ranked/sessions", token=token, json=start).json()
    api.post(f"/api/v1/ranked/sessions/{game['id']}/seed", token=token, json={"client_seed": "c0ffee" * 4})
    dealt = api.post(f"/api/v1/ranked/sessions/{game['id']}/next", token=token).json()
    clock.advance(seconds)
    answer = {"answer": round_truth(api.app_state, game["id"], dealt["number"])}
    reveal = api.post(f"/api/v1/ranked/sessions/{game['id']}/rounds/1/answer", token=token, json=answer).json()
    assert reveal["timed_out"] == (reveal["answer"] is None)
    return reveal["points"], reveal["timed_out"]


@pytest.mark.parametrize(("name", "mode", "seconds", "expected"), BOUNDARIES, ids=IDS)
def test_the_game_and_an_uploads_re_scoring_agree(
    api: ApiClient, name: str, mode: Mode, seconds: float, expected: tuple[int, bool]
) -> None:
    token = api.register()["access_token"]
    assert desktop_verdict(mode, seconds) == upload_verdict(api, token, mode, seconds) == expected, name


@pytest.mark.parametrize(("name", "mode", "seconds", "expected"), BOUNDARIES[:2], ids=IDS[:2])
def test_the_game_and_ranked_scoring_agree(
    api: ApiClient, clock: FakeClock, name: str, mode: Mode, seconds: float, expected: tuple[int, bool]
) -> None:
    # Ranked play has classic rules only (15 s a round, timed by the server); blitz is offline.
    labels = import_bundled(api.app_state)
    assert desktop_verdict(mode, seconds) == ranked_verdict(api, clock, labels, seconds) == expected, name


def test_ranked_gives_no_speed_bonus_to_an_answer_faster_than_a_human(api: ApiClient, clock: FakeClock) -> None:
    # The one deliberate difference: offline play cannot tell a bot from a person, the ranked server can.
    labels = import_bundled(api.app_state)
    assert desktop_verdict(CLASSIC, 0.0) == (15, False)
    assert ranked_verdict(api, clock, labels, 0.02) == (10, False)


def test_an_uploaded_blitz_session_is_re_scored_with_the_miss_penalty(api: ApiClient) -> None:
    """A masher's session scores on the server what it scored in the game; rounds claimed after the misses used up
    the clock score nothing."""
    session = play_blitz(random.Random(3), accuracy=None, seconds=0.2, seed="masher")
    rounds = [
        {
            "image_sha256": r.image,
            "options": list(r.options),
            "truth": r.truth,
            "player_answer": r.player_answer,
            "ai_answer": r.ai.answer,
            "ai_confidence": r.ai.confidence,
            "elapsed_ms": r.elapsed_ms,
        }
        for r in session.results
    ]
    extra = [{**rounds[0], "image_sha256": f"{10_000 + i:064x}", "player_answer": rounds[0]["truth"]} for i in range(5)]
    token = api.register()["access_token"]
    for claimed, expected in ((rounds, session.player_points), (rounds + extra, session.player_points)):
        body = {
            "client_session_id": str(uuid.uuid4()),
            "pack_id": "fashion-mnist",
            "difficulty": "hard",
            "mode": "blitz",
            "model_id": "m",
            "started_at": "2026-11-18T11:50:00Z",
            "finished_at": "2026-11-18T11:52:00Z",
            "rounds": claimed,
        }
        response = api.post("/api/v1/sessions", token=token, json=body)
        assert response.status_code == 201, response.text
        assert response.json()["score"] == expected
