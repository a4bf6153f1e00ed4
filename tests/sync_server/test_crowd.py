"""Crowd statistics (issue 20): many simulated players play ranked sessions on the real server (SQLite, and
PostgreSQL when configured), and the per-image, per-pack and per-model numbers, the minimum-count rule, the
opt-in offline statistics and the error consistency come out as a hand count says."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select

from classifiers import metrics
from sync_server import crowd_stats
from sync_server.crowd import time_bin
from sync_server.crowd_rebuild import rebuild
from sync_server.crowd_stats import cohen_kappa, histogram_quantiles
from sync_server.models import GameSession, SessionRound
from tests.sync_server.helpers import ApiClient, FakeClock, import_bundled, round_truth

RANKED = "/api/v1/ranked"
STATS = "/api/v1/stats/packs/fashion-mnist"
MODEL = "fashion-mnist-shallow-rf"
ROUNDS = 5


def test_kappa_matches_a_hand_computed_example() -> None:
    # 10 trials: both right 6, only the people 2, only the model 1, both wrong 1. p_h = .8, p_m = .7,
    # c_obs = .7, c_exp = .8 * .7 + .2 * .3 = .62, kappa = (.7 - .62) / (1 - .62) = .08 / .38.
    assert cohen_kappa(6, 2, 1, 1) == pytest.approx(0.08 / 0.38)
    people = [True] * 6 + [True] * 2 + [False] * 1 + [False] * 1  # the same 10 trials as two vectors
    model = [True] * 6 + [False] * 2 + [True] * 1 + [False] * 1
    assert cohen_kappa(6, 2, 1, 1) == pytest.approx(metrics.cohen_kappa(people, model))
    assert cohen_kappa(5, 0, 0, 5) == pytest.approx(1.0)  # the same errors: perfect consistency
    assert cohen_kappa(0, 5, 5, 0) == pytest.approx(-1.0)  # opposite errors
    assert cohen_kappa(4, 0, 0, 0) is None and cohen_kappa(0, 0, 0, 0) is None  # nothing to agree on


def test_time_quantiles_come_from_the_histogram() -> None:
    bins = {time_bin(ms): 1 for ms in (950, 1420, 1470, 2010, 12_345)}
    assert time_bin(1470) == 1400 and time_bin(12_345) == 12_000
    assert histogram_quantiles({1400: 2, 900: 1, 2000: 1, 12_000: 1})[0.5] == 1400
    assert histogram_quantiles(bins, (0.1, 0.9)) == {0.1: 900, 0.9: 12_000}
    assert histogram_quantiles({}) is None


def _play(api: ApiClient, clock: FakeClock, token: str, wrong_rounds: set[int], seconds: float = 2.0) -> str:
    game = api.post(f"{RANKED}/sessions", token=token, json={"pack_id": "fashion-mnist", "difficulty": "easy"}).json()
    api.post(f"{RANKED}/sessions/{game['id']}/seed", token=token, json={"client_seed": "ab" * 16})
    for _ in range(ROUNDS):
        dealt = api.post(f"{RANKED}/sessions/{game['id']}/next", token=token).json()
        truth = round_truth(api.app_state, game["id"], dealt["number"])
        answer = next(o for o in dealt["options"] if o != truth) if dealt["number"] in wrong_rounds else truth
        clock.advance(seconds)
        url = f"{RANKED}/sessions/{game['id']}/rounds/{dealt['number']}/answer"
        assert api.post(url, token=token, json={"answer": answer}).status_code == 200
    return game["id"]


def _rounds(api: ApiClient) -> list[SessionRound]:
    with api.app_state.db_sessions() as session:
        query = select(SessionRound).join(GameSession).where(GameSession.mode == "ranked", GameSession.review.is_(None))
        return list(session.scalars(query))


def test_crowd_statistics_after_many_ranked_players(make_client, clock: FakeClock) -> None:
    api = make_client(ranked_rounds=ROUNDS, crowd_min_players=5)
    import_bundled(api.app_state, images=ROUNDS, models=(MODEL,))
    tokens = [api.register(email=f"p{i}@example.org")["access_token"] for i in range(6)]
    for i, token in enumerate(tokens[:4]):
        _play(api, clock, token, wrong_rounds={1 + i % ROUNDS})
    # Four players: below the minimum, nothing is shown, not even how many played.
    withheld = api.get(STATS).json()
    assert withheld["enough_players"] is False and withheld["players"] is None and withheld["hardest"] == []
    some_image = _rounds(api)[0].source_sha256
    image = api.get(f"{STATS}/images/{some_image}").json()
    assert image["enough_players"] is False and image["players"] is None and image["accuracy"] is None

    _play(api, clock, tokens[4], wrong_rounds={1, 2})
    _play(api, clock, tokens[4], wrong_rounds={1, 2, 3, 4, 5})  # a second look at the same images: not counted
    held = _play(api, clock, tokens[5], wrong_rounds=set(), seconds=0.01)  # machine speed: held, not counted

    counted = [r for r in _rounds(api) if r.number and r.session_id <= 5]
    assert len(counted) == 5 * ROUNDS
    pack = api.get(STATS).json()
    assert pack["enough_players"] is True and pack["players"] == 5 and pack["answers"] == 5 * ROUNDS
    right = sum(bool(r.is_correct) for r in counted)
    assert right == 5 * ROUNDS - 4 - 2 and pack["accuracy"] == pytest.approx(right / (5 * ROUNDS))
    matrix = pack["confusion"]["counts"]
    assert sum(matrix[i][i] for i in range(len(matrix))) == right and sum(map(sum, matrix)) == 5 * ROUNDS
    for row in pack["per_class"]:
        truths = [r for r in counted if r.truth == row["label"]]
        assert row["answers"] == len(truths)
        assert row["accuracy"] == pytest.approx(sum(bool(r.is_correct) for r in truths) / len(truths))

    # Per model: accuracy on the same rounds, and the 2 x 2 table's kappa.
    (model,) = pack["models"]
    table = {(h, m): 0 for h in (True, False) for m in (True, False)}
    for r in counted:
        table[bool(r.is_correct), r.ai_answer == r.truth] += 1
    assert model["model_id"] == MODEL and model["rounds"] == 5 * ROUNDS
    assert model["accuracy"] == pytest.approx((table[True, True] + table[False, True]) / (5 * ROUNDS))
    expected = cohen_kappa(table[True, True], table[True, False], table[False, True], table[False, False])
    assert model["error_consistency"] == (None if expected is None else pytest.approx(expected))

    # Per image, folded under the original pack image (every variant of it), with its answers over the options.
    for source in {r.source_sha256 for r in counted}:
        rounds = [r for r in counted if r.source_sha256 == source]
        response = api.get(f"{STATS}/images/{source}")
        assert response.headers["cache-control"] == "public, max-age=60"
        body = response.json()
        assert body["players"] == 5 and body["verified"] is True and body["median_ms"] == 2000
        assert body["accuracy"] == pytest.approx(sum(bool(r.is_correct) for r in rounds) / 5)
        assert body["answers"] == {a: sum(r.player_answer == a for r in rounds) for a in body["answers"]}
        assert sum(body["answers"].values()) == 5 and body["shown"][rounds[0].truth] == 5
    assert len(pack["hardest"]) == ROUNDS and pack["hardest"][0]["accuracy"] <= pack["hardest"][-1]["accuracy"]
    assert all(g["ai_accuracy"] < 0.5 < g["accuracy"] for g in pack["fool_ai"])
    assert api.get(f"{STATS}/images/{'0' * 64}").status_code == 404
    assert api.get("/api/v1/stats/packs/no-such-pack").status_code == 404

    # The ranked round endpoint: the variant's hash, the crowd's share, no distribution of an open session.
    mine = api.get(f"/api/v1/stats/ranked/sessions/{held}/rounds/1", token=tokens[5]).json()
    assert mine["players"] == 5 and mine["answers"] is not None  # the session has ended
    assert api.get(f"/api/v1/stats/ranked/sessions/{held}/rounds/1", token=tokens[0]).status_code == 404

    # The backfill job recomputes the same aggregates from the stored rounds in one pass.
    before = {s: api.get(f"{STATS}/images/{s}").json() for s in {r.source_sha256 for r in counted}}
    with api.app_state.db_sessions() as session:
        assert rebuild(session=session, pack_id="fashion-mnist", page=2) == 5 * ROUNDS  # 2 sessions a query
        session.commit()
        recomputed = crowd_stats.pack_stats(session=session, pack_id="fashion-mnist", min_players=5)
    assert json.loads(json.dumps(recomputed)) == pack
    assert {s: api.get(f"{STATS}/images/{s}").json() for s in before} == before


def _upload(api: ApiClient, token: str, *, share: bool, answer: str) -> None:
    rounds = [
        {
            "image_sha256": f"{n:064x}",
            "options": ["coat", "bag", "shirt"],
            "truth": "coat",
            "player_answer": answer,
            "ai_answer": "coat",
            "ai_confidence": 700,
            "elapsed_ms": 1500,
        }
        for n in range(3)
    ]
    body = {
        "client_session_id": str(uuid.uuid4()),
        "pack_id": "fashion-mnist",
        "difficulty": "medium",
        "mode": "classic",
        "model_id": "fashion-mnist-shallow-svm",
        "started_at": "2026-11-18T11:50:00Z",
        "finished_at": "2026-11-18T11:52:00Z",
        "rounds": rounds,
        "share_answers": share,
    }
    assert api.post("/api/v1/sessions", token=token, json=body).status_code == 201


def test_offline_answers_count_only_when_the_player_opted_in_and_stay_apart(make_client) -> None:
    api = make_client(crowd_min_players=2)
    import_bundled(api.app_state, images=ROUNDS, models=(MODEL,))
    tokens = [api.register(email=f"o{i}@example.org")["access_token"] for i in range(3)]
    _upload(api, tokens[0], share=True, answer="coat")
    _upload(api, tokens[1], share=False, answer="bag")  # not opted in: never counted
    image = f"{0:064x}"
    assert api.get(f"{STATS}/images/{image}", params={"source": "offline"}).json()["enough_players"] is False
    _upload(api, tokens[2], share=True, answer="bag")
    body = api.get(f"{STATS}/images/{image}", params={"source": "offline"}).json()
    assert body["verified"] is False and body["players"] == 2 and body["answers"] == {"bag": 1, "coat": 1}
    assert api.get(f"{STATS}/images/{image}").status_code == 404  # no ranked judgement of it
    pack = api.get(STATS).json()
    assert pack["enough_players"] is False and pack["unverified"]["players"] == 2
    assert pack["unverified"]["accuracy"] == pytest.approx(0.5)


def test_time_bins_cover_the_tail() -> None:
    assert time_bin(-5) == 0 and time_bin(10**9) == 299_000
    assert dt.timedelta(milliseconds=time_bin(9_999)) == dt.timedelta(milliseconds=9_900)


def test_the_human_label_export_follows_its_schema_and_is_served(make_client, clock, tmp_path, monkeypatch) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from sync_server.__main__ import main

    api = make_client(ranked_rounds=ROUNDS, crowd_min_players=2)
    import_bundled(api.app_state, images=ROUNDS, models=(MODEL,))
    assert api.get(f"{STATS}/human-labels").status_code == 404  # nothing exported yet
    for i in range(2):
        _play(api, clock, api.register(email=f"e{i}@example.org")["access_token"], wrong_rounds={1})
    data_dir = tmp_path / "data"
    monkeypatch.setenv("EYEVSAI_SERVER_DATABASE_URL", str(api.app_state.engine.url.render_as_string(False)))
    monkeypatch.setenv("EYEVSAI_SERVER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("EYEVSAI_SERVER_CROWD_MIN_PLAYERS", "2")
    assert main(["export-human-labels", "--pack", "fashion-mnist", "--data-dir", str(data_dir)]) == 0
    assert main(["export-human-labels", "--pack", "no-such-pack", "--data-dir", str(data_dir)]) == 2

    manifest = api.get(f"{STATS}/human-labels").json()
    assert manifest["images"] == ROUNDS and manifest["licence"] == "CC-BY-4.0" and manifest["min_players"] == 2
    schema = api.get(manifest["files"]["schema"]).json()
    data = api.get(manifest["files"]["data"])
    assert data.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in data.text.splitlines()]
    for record in records:
        jsonschema.validate(record, schema)
        assert record["players"] == 2 and sum(record["answer_counts"].values()) == 2
    truths = {r.source_sha256: r.truth for r in _rounds(api)}
    assert {r["image_sha256"]: r["label"] for r in records} == truths
    datasheet = api.get(manifest["files"]["datasheet"]).text
    assert "at least 2 distinct players" in datasheet and "CC-BY-4.0" in datasheet
    with pytest.raises(jsonschema.ValidationError):  # the schema really constrains a record
        jsonschema.validate({**records[0], "players": "many"}, schema)
