"""Ranked sessions (docs/design.md §6): each test performs an attack from the fair-play audit and asserts the refusal,
or plays the protocol and checks what a player can recompute at the end."""

from __future__ import annotations

import base64
import hashlib

import pytest

from classifiers.attestation import verify_attestation
from classifiers.pack import open_pack
from classifiers.variants import render_variant
from game_rules.attestation import record_problems
from game_rules.commitment import RoundRecord, session_commitment
from game_rules.ranked_deal import deal_round, variant_for
from tests.sync_server.helpers import ApiClient, FakeClock, bundled_pack_dir, import_bundled, round_truth

RANKED = "/api/v1/ranked"
SEED = "00112233445566778899aabbccddeeff"
MODELS = ("fashion-mnist-shallow-rf", "fashion-mnist-deep-v1")  # an easy and a hard opponent


@pytest.fixture
def ranked(api: ApiClient) -> tuple[ApiClient, dict[str, str]]:
    return api, import_bundled(api.app_state, models=MODELS)


def start(api: ApiClient, token: str, difficulty: str = "easy", *, seed: str | None = SEED) -> dict:
    response = api.post(f"{RANKED}/sessions", token=token, json={"pack_id": "fashion-mnist", "difficulty": difficulty})
    assert response.status_code == 201, response.text
    game = response.json()
    if seed is not None:
        seeded = api.post(f"{RANKED}/sessions/{game['id']}/seed", token=token, json={"client_seed": seed})
        assert seeded.status_code == 200, seeded.text
    return game


def play_round(api: ApiClient, clock: FakeClock, token: str, session_id: str, *, correct=True, seconds=1.0) -> dict:
    dealt = api.post(f"{RANKED}/sessions/{session_id}/next", token=token).json()
    truth = round_truth(api.app_state, session_id, dealt["number"])
    answer = truth if correct else next(o for o in dealt["options"] if o != truth)
    clock.advance(seconds)
    url = f"{RANKED}/sessions/{session_id}/rounds/{dealt['number']}/answer"
    response = api.post(url, token=token, json={"answer": answer})
    assert response.status_code == 200, response.text
    return {**response.json(), "dealt": dealt}


def board(api: ApiClient, difficulty: str = "easy") -> list[tuple[int, str]]:
    entries = api.get(f"/api/v1/leaderboards/fashion-mnist/{difficulty}/day").json()["entries"]
    return [(e["score"], e["session_id"]) for e in entries]


def test_the_server_commits_to_its_seed_before_the_client_sends_one(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    with_seed = {"pack_id": "fashion-mnist", "difficulty": "easy", "client_seed": SEED}
    assert api.post(f"{RANKED}/sessions", token=token, json=with_seed).status_code == 422
    game = start(api, token, seed=None)
    assert game["status"] == "seeding" and game["client_seed"] is None and len(game["server_seed_hash"]) == 64
    url = f"{RANKED}/sessions/{game['id']}"
    assert api.post(f"{url}/next", token=token).status_code == 409  # no deal before the client's seed
    assert api.post(f"{url}/seed", token=token, json={"client_seed": SEED}).json()["status"] == "playing"
    assert api.post(f"{url}/seed", token=token, json={"client_seed": "ab" * 16}).status_code == 409


def test_a_whole_session_is_recomputed_from_the_revealed_seeds(ranked, clock: FakeClock) -> None:
    api, labels = ranked
    token = api.register()["access_token"]
    game = start(api, token, difficulty="hard")
    reveals = [play_round(api, clock, token, game["id"], correct=n % 2 == 0) for n in range(10)]
    final = api.get(f"{RANKED}/sessions/{game['id']}", token=token).json()
    assert final["status"] == "finished" and final["correct"] == 5 and final["score"] == 5 * (30 + 5)
    seed = final["server_seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == game["server_seed_hash"]
    assert final["session_commitment"] == session_commitment([r["commitment"] for r in reveals])
    pack, classes = open_pack(bundled_pack_dir()), final["opponent"] and api.get(f"{RANKED}/packs").json()[0]["classes"]
    shown: set[str] = set()
    for reveal, truth in zip(reveals, final["truths"], strict=True):
        number = reveal["number"]
        dealt = deal_round(
            server_seed=seed,
            client_seed=SEED,
            number=number,
            images=sorted(labels.items()),
            shown=shown,
            classes=classes,
        )
        served = base64.b64decode(reveal["dealt"]["image"])
        assert render_variant(pack.read_bytes(dealt.image), variant_for(seed, SEED, number)) == served
        assert hashlib.sha256(served).hexdigest() == reveal["record"]["image"] == reveal["dealt"]["image_sha256"]
        assert list(dealt.options) == reveal["record"]["options"] and dealt.truth == truth
        assert RoundRecord.from_json_obj(reveal["record"]).commitment() == reveal["dealt"]["commitment"]
        shown.add(dealt.image)
    assert board(api, "hard") == [(175, game["id"])]


def test_answers_reveal_no_truth_until_the_session_ends(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    token = api.register()["access_token"]
    game = start(api, token)
    reveal = api.post(f"{RANKED}/sessions/{game['id']}/next", token=token)
    clock.advance(0.01)
    reveal = api.post(f"{RANKED}/sessions/{game['id']}/rounds/1/answer", token=token, json={"answer": None}).json()
    assert "truth" not in reveal and reveal["session"]["truths"] is None and reveal["session"]["server_seed"] is None
    assert set(reveal["ai"]) == {"answer", "confidence", "top1"}  # no "is_correct" of the AI either
    history = api.get(f"/api/v1/sessions/{game['id']}", token=token).json()
    assert [r["truth"] for r in history["rounds"]] == [None]
    assert api.get(f"{RANKED}/sessions/{game['id']}", token=token).json()["truths"] is None


def test_one_open_session_and_abandoning_counts_as_played(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    token = api.register()["access_token"]
    first = start(api, token)
    play_round(api, clock, token, first["id"], correct=False)
    second = api.post(f"{RANKED}/sessions", token=token, json={"pack_id": "fashion-mnist", "difficulty": "easy"})
    assert second.status_code == 409 and second.json()["session_id"] == first["id"]
    ended = api.post(f"{RANKED}/sessions/{first['id']}/abandon", token=token).json()
    assert ended["status"] == "abandoned" and ended["rounds_played"] == 10 and len(ended["truths"]) == 1
    assert ended["total_time_ms"] == 1000 + 9 * 15_000  # the rounds never played are timed out
    assert board(api) == [(0, first["id"])]  # cherry-picking by restarting costs a counted session
    history = api.get("/api/v1/sessions", token=token).json()["items"]
    assert [s["id"] for s in history] == [first["id"]]
    assert api.post(f"{RANKED}/sessions/{first['id']}/abandon", token=token).status_code == 409
    start(api, token)  # now a new one may start


def test_an_unfinished_session_expires_and_counts(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    token = api.register()["access_token"]
    game = start(api, token)
    play_round(api, clock, token, game["id"])
    api.post(f"{RANKED}/sessions/{game['id']}/next", token=token)
    clock.advance(10 * 15 + 119)
    assert api.get(f"{RANKED}/sessions/{game['id']}", token=token).json()["status"] == "playing"
    clock.advance(2)
    assert [e[1] for e in board(api)] == [game["id"]]  # reading a board sweeps the overdue sessions
    expired = api.get(f"{RANKED}/sessions/{game['id']}", token=token).json()
    assert expired["status"] == "expired" and len(expired["truths"]) == 2 and expired["correct"] == 1
    start(api, token)


def test_an_answer_20_ms_after_the_deal_earns_no_bonus_and_holds_the_session(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    token = api.register()["access_token"]
    game = start(api, token)
    fast = play_round(api, clock, token, game["id"], seconds=0.02)
    assert fast["is_correct"] and fast["elapsed_ms"] == 20 and fast["points"] == 10  # base only
    for _ in range(9):
        play_round(api, clock, token, game["id"], seconds=3)
    final = api.get(f"{RANKED}/sessions/{game['id']}", token=token).json()
    assert final["status"] == "held" and final["review"] == "held"
    assert board(api) == []
    assert [s["id"] for s in api.get("/api/v1/sessions", token=token).json()["items"]] == [game["id"]]


def _bot_session(api: ApiClient, clock: FakeClock, token: str, seconds: float) -> dict:
    game = start(api, token)
    for _ in range(10):
        play_round(api, clock, token, game["id"], seconds=seconds)
    return api.get(f"{RANKED}/sessions/{game['id']}", token=token).json()


def test_a_bot_that_knows_every_label_does_not_reach_the_board(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    honest = api.register("ada@example.org")["access_token"]
    for _ in range(3):  # a population of ordinary play
        game = start(api, honest)
        for n in range(10):
            play_round(api, clock, honest, game["id"], correct=n % 3 != 0, seconds=4.5)
    bot = api.register("bot@example.org")["access_token"]
    instant = _bot_session(api, clock, bot, 0.01)
    assert instant["status"] == "held" and instant["score"] == 100
    held = []
    for _ in range(8):  # at human speed, never wrong
        held.append(_bot_session(api, clock, bot, 1.5)["status"])
    assert held[0] == "finished" and held[-1] == "held"  # one perfect session is luck, many are not
    on_board = {session_id for _, session_id in board(api)}
    assert instant["id"] not in on_board


def test_review_approve_puts_a_held_session_on_the_board(make_client, clock, tmp_path, monkeypatch) -> None:
    from sync_server.__main__ import main

    api = make_client()
    import_bundled(api.app_state, models=MODELS)
    token = api.register()["access_token"]
    held = _bot_session(api, clock, token, 0.01)
    assert held["status"] == "held" and board(api) == []
    monkeypatch.setenv("EYEVSAI_SERVER_DATABASE_URL", str(api.app_state.engine.url.render_as_string(False)))
    data = ["--data-dir", str(tmp_path / "cli")]
    assert main(["review", "list", "--json", *data]) == 0
    assert main(["review", "approve", held["id"], *data]) == 0
    assert board(api) == [(100, held["id"])]
    assert main(["review", "reject", held["id"], *data]) == 2  # no longer held


def test_exact_lookup_fails_the_served_image_is_a_fresh_variant_each_session(api: ApiClient, clock) -> None:
    labels = import_bundled(api.app_state, images=10, models=MODELS[:1])  # every session shows all ten images
    token = api.register()["access_token"]
    served: list[set[str]] = []
    for _ in range(2):
        game = start(api, token)
        served.append({play_round(api, clock, token, game["id"])["dealt"]["image_sha256"] for _ in range(10)})
    assert not served[0] & served[1] and not (served[0] | served[1]) & set(labels)
    assert len(served[0]) == len(served[1]) == 10


def test_the_ended_session_is_signed_and_a_changed_record_is_not(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    me = api.register()
    token = me["access_token"]
    key = api.get(f"{RANKED}/public-key").json()
    assert key["algorithm"] == "Ed25519" and len(base64.b64decode(key["public_key"])) == 32
    assert key["key_id"] == hashlib.sha256(base64.b64decode(key["public_key"])).hexdigest()[:16]
    game = start(api, token)
    play_round(api, clock, token, game["id"])
    assert api.get(f"{RANKED}/sessions/{game['id']}/attestation", token=token).status_code == 409
    api.post(f"{RANKED}/sessions/{game['id']}/abandon", token=token)
    signed = api.get(f"{RANKED}/sessions/{game['id']}/attestation", token=token).json()
    record = signed["record"]
    assert record_problems(record) == [] and record["status"] == "abandoned" and record["player"] == me["user"]["id"]
    assert record["client_seed"] == SEED and len(record["rounds"]) == 1
    assert verify_attestation(record, signed["signature"], key["public_key"])
    assert not verify_attestation({**record, "score": record["score"] + 10}, signed["signature"], key["public_key"])
    other = api.register("eve@example.org")["access_token"]
    assert api.get(f"{RANKED}/sessions/{game['id']}/attestation", token=other).status_code == 404


def test_a_signing_key_readable_by_others_stops_the_server(tmp_path) -> None:
    from sync_server.signing import KEY_FILE, SigningKeyError, load_signer

    first = load_signer(tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert load_signer(tmp_path).public() == first.public()  # the same key on every start
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_signer(tmp_path)


def test_ranked_failures(ranked, clock: FakeClock) -> None:
    api, _ = ranked
    token = api.register()["access_token"]
    body = {"pack_id": "fashion-mnist", "difficulty": "easy"}
    assert api.post(f"{RANKED}/sessions", json=body).status_code == 401
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "pack_id": "nope"}).status_code == 404
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "model_id": "ghost"}).status_code == 404
    assert api.post(f"{RANKED}/sessions", token=token, json={**body, "difficulty": "insane"}).status_code == 422
    game = start(api, token, seed=None)
    url = f"{RANKED}/sessions/{game['id']}"
    assert api.post(f"{url}/seed", token=token, json={"client_seed": "XYZ"}).status_code == 422
    api.post(f"{url}/seed", token=token, json={"client_seed": SEED})
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": None}).status_code == 404
    dealt = api.post(f"{url}/next", token=token).json()
    clock.advance(5)
    assert api.post(f"{url}/next", token=token).json() == dealt  # a repeat: same round, same bytes, same clock
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": "not an option"}).status_code == 422
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": dealt["options"][0]}).status_code == 200
    assert api.post(f"{url}/rounds/1/answer", token=token, json={"answer": dealt["options"][0]}).status_code == 409
    other = api.register("eve@example.org")["access_token"]
    assert api.get(url, token=other).status_code == 404
    assert api.post(f"{url}/next", token=other).status_code == 404
    assert api.post(f"{url}/abandon", token=other).status_code == 404
    late = play_round(api, clock, token, game["id"], seconds=15.5)
    assert late["timed_out"] and late["points"] == 0 and late["elapsed_ms"] == 15_000


def test_a_pack_without_enough_images_cannot_start(api: ApiClient) -> None:
    import_bundled(api.app_state, images=5, models=MODELS[:1])
    token = api.register()["access_token"]
    response = api.post(f"{RANKED}/sessions", token=token, json={"pack_id": "fashion-mnist", "difficulty": "easy"})
    assert response.status_code == 409 and "fewer than 10" in response.json()["detail"]
