"""Ranked sessions: server seed commitment, per-round deal, AI commitments, server-measured time and scoring."""

from __future__ import annotations

import hashlib

import pytest

from classifiers.card import read_card
from game_rules.commitment import RoundRecord, session_commitment
from game_rules.ranked_deal import deal_round
from tests.sync_server.helpers import ApiClient, FakeClock, bundled_model_dirs, import_bundled

RANKED = "/api/v1/ranked"
SEED = "00112233445566778899aabbccddeeff"


@pytest.fixture
def ranked(api: ApiClient) -> tuple[ApiClient, dict[str, str]]:
    return api, import_bundled(api.app_state)


def start(api: ApiClient, token: str, difficulty: str = "easy", **extra) -> dict:
    response = api.post(
        f"{RANKED}/sessions",
        token=token,
        json={"pack_id": "fashion-mnist", "difficulty": difficulty, "client_seed": SEED, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def play_round(
    api: ApiClient,
    clock: FakeClock,
    token: str,
    session_id: str,
    labels: dict[str, str],
    *,
    correct: bool = True,
    seconds: float = 1.0,
) -> dict:
    dealt = api.post(f"{RANKED}/sessions/{session_id}/next", token=token).json()
    truth = labels[dealt["image_sha256"]]
    answer = truth if correct else next(o for o in dealt["options"] if o != truth)
    clock.advance(seconds)
    response = api.post(
        f"{RANKED}/sessions/{session_id}/rounds/{dealt['number']}/answer", token=token, json={"answer": answer}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_packs_list_the_imported_opponents(ranked) -> None:
    api, labels = ranked
    packs = api.get(f"{RANKED}/packs").json()
    assert [p["id"] for p in packs] == ["fashion-mnist"] and packs[0]["images"] == len(labels)
    cards = map(read_card, bundled_model_dirs())
    assert {(o["id"], o["difficulty"]) for o in packs[0]["opponents"]} == {(c.id, c.difficulty) for c in cards}
    assert {o["difficulty"] for o in packs[0]["opponents"]} == {"easy", "medium", "hard"}


def test_a_round_commits_before_and_reveals_after(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    game = start(api, token)
    assert game["server_seed"] is None and len(game["server_seed_hash"]) == 64 and game["rounds_total"] == 10
    dealt = api.post(f"{RANKED}/sessions/{game['id']}/next", token=token).json()
    assert dealt["number"] == 1 and len(dealt["options"]) == 4 and labels[dealt["image_sha256"]] in dealt["options"]
    assert "truth" not in dealt and "salt" not in dealt
    clock.advance(3.5)  # server-measured: 3.5 s → speed bonus 5 − floor(3.5 / 2) = 4
    reveal = api.post(
        f"{RANKED}/sessions/{game['id']}/rounds/1/answer", token=token, json={"answer": labels[dealt["image_sha256"]]}
    ).json()
    assert reveal["is_correct"] and reveal["elapsed_ms"] == 3500 and reveal["points"] == 10 + 4
    record = RoundRecord.from_json_obj(reveal["record"])
    assert record.commitment() == dealt["commitment"] == reveal["commitment"]
    assert record.session == game["id"] and record.image == dealt["image_sha256"]
    assert record.model == game["opponent"]["onnx_sha256"]
    # The table puts 0.7 on the truth: the AI picks it among the options, with 700 per-mille.
    assert reveal["ai"] == {
        "answer": labels[dealt["image_sha256"]],
        "confidence": 700,
        "top1": labels[dealt["image_sha256"]],
        "is_correct": True,
    }


def test_a_whole_session_can_be_recomputed_from_the_revealed_seed(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    game = start(api, token, difficulty="hard")
    reveals = [play_round(api, clock, token, game["id"], labels, correct=n % 2 == 0, seconds=1) for n in range(10)]
    final = reveals[-1]["session"]
    assert final["status"] == "finished" and final["rounds_played"] == 10 and final["correct"] == 5
    assert final["score"] == 5 * (30 + 5) and final["total_time_ms"] == 10_000
    seed = final["server_seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == game["server_seed_hash"]
    assert final["session_commitment"] == session_commitment([r["commitment"] for r in reveals])
    images = sorted(labels.items())
    classes = api.get(f"{RANKED}/packs").json()[0]["classes"]
    shown: set[str] = set()
    for reveal in reveals:
        dealt = deal_round(
            server_seed=seed, client_seed=SEED, number=reveal["number"], images=images, shown=shown, classes=classes
        )
        assert dealt.image == reveal["record"]["image"] and list(dealt.options) == reveal["record"]["options"]
        shown.add(dealt.image)
    assert len(shown) == 10  # never the same image twice
    assert api.post(f"{RANKED}/sessions/{game['id']}/next", token=token).status_code == 409
    board = api.get("/api/v1/leaderboards/fashion-mnist/hard/day").json()
    assert [(e["score"], e["session_id"]) for e in board["entries"]] == [(175, game["id"])]


def test_late_answers_time_out(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    game = start(api, token)
    reveal = play_round(api, clock, token, game["id"], labels, seconds=15.5)
    assert reveal["timed_out"] and reveal["points"] == 0 and not reveal["is_correct"]
    assert reveal["answer"] is None and reveal["elapsed_ms"] == 15_000


def test_next_repeats_an_unanswered_round_and_does_not_restart_its_clock(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    game = start(api, token)
    first = api.post(f"{RANKED}/sessions/{game['id']}/next", token=token).json()
    clock.advance(5)
    again = api.post(f"{RANKED}/sessions/{game['id']}/next", token=token).json()
    assert again == first
    clock.advance(1)
    reveal = api.post(f"{RANKED}/sessions/{game['id']}/rounds/1/answer", token=token, json={"answer": None}).json()
    assert reveal["elapsed_ms"] == 6000 and reveal["points"] == 0 and not reveal["timed_out"]


def test_ranked_failures(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    body = {"pack_id": "fashion-mnist", "difficulty": "easy", "client_seed": SEED}
    assert api.post(f"{RANKED}/sessions", json=body).status_code == 401
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "pack_id": "nope"}).status_code == 404
    unknown_model = api.post(f"{RANKED}/sessions", token=token, json={**body, "model_id": "fashion-mnist-shallow-rf"})
    assert unknown_model.status_code in (201, 404)  # 404 unless the rf model is the easy one
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "model_id": "ghost"}).status_code == 404
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "client_seed": "XYZ"}).status_code == 422
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "difficulty": "insane"}).status_code == 422
    game = start(api, token)
    url = f"{RANKED}/sessions/{game['id']}"
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": None}).status_code == 404
    dealt = api.post(f"{url}/next", token=token).json()
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": "not an option"}).status_code == 422
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": dealt["options"][0]}).status_code == 200
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": dealt["options"][0]}).status_code == 409
    other = api.register("eve@example.org")["access_token"]
    assert api.get(url, token=other).status_code == 404
    assert api.post(f"{url}/next", token=other).status_code == 404
    assert api.get(f"{RANKED}/sessions/not-a-uuid", token=token).status_code == 422
    assert api.get(url, token=token).json()["rounds_played"] == 1


def test_a_pack_without_enough_images_cannot_start(api: ApiClient) -> None:
    import_bundled(api.app_state, images=5)
    token = api.register()["access_token"]
    response = api.post(
        f"{RANKED}/sessions", token=token, json={"pack_id": "fashion-mnist", "difficulty": "easy", "client_seed": SEED}
    )
    assert response.status_code == 409 and "fewer than 10" in response.json()["detail"]


def test_deal_is_deterministic_and_pinned() -> None:
    images = [(f"{i:064x}", "ab"[i % 2]) for i in range(20)]
    first = deal_round(
        server_seed="11" * 32,
        client_seed="cafe" * 4,
        number=1,
        images=images,
        shown=set(),
        classes=["a", "b", "c", "d", "e"],
    )
    again = deal_round(
        server_seed="11" * 32,
        client_seed="cafe" * 4,
        number=1,
        images=list(reversed(images)),
        shown=set(),
        classes=["e", "d", "c", "b", "a"],
    )
    assert first == again and len(set(first.options)) == 4 and first.truth in first.options
    # Pinned: a change here changes every published deal, and old sessions could no longer be checked.
    assert (first.image[-2:], first.truth, first.options) == ("0e", "a", ("a", "b", "e", "d"))
    other = deal_round(
        server_seed="11" * 32,
        client_seed="cafe" * 4,
        number=2,
        images=images,
        shown={first.image},
        classes=["a", "b", "c", "d", "e"],
    )
    assert other.image != first.image
