"""Ranked play through the server's round protocol: every commitment, the server seed, the re-dealt rounds and
variants and the server's signed record checked by the game, end to end against the real server on loopback."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest

from classifiers.attestation import verify_attestation
from desktop.app import main as desktop_main
from desktop.services.online.client import ServerClient
from desktop.services.online.ranked import RankedGame, ranked_setup
from desktop.services.online.tokens import TokenStore
from desktop.services.store import Store
from desktop.ui.round_controller import pack_image_reader

PACK = "fashion-mnist"


class TamperingTransport(httpx.HTTPTransport):
    """A man in the middle (or a dishonest server): rewrites JSON answers whose path ends with `suffix`."""

    def __init__(self, suffix: str, change) -> None:  # noqa: ANN001
        super().__init__()
        self.suffix, self.change = suffix, change

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith(self.suffix):
            return response
        body = json.loads(response.read())
        self.change(body)
        return httpx.Response(response.status_code, json=body, headers={"content-type": "application/json"})


def _play(client: ServerClient, catalog, live_server, difficulty: str = "hard") -> RankedGame:
    pack = catalog.packs[PACK]
    local = [e.sha256 for e in pack.splits["ranked"]]
    pool, opponent = ranked_setup(client, pack_id=PACK, difficulty=difficulty, local_ranked=local, model_id=None)
    game = RankedGame.start(
        client,
        pack_id=PACK,
        difficulty=difficulty,
        classes=pack.classes,
        ranked_images=pool,
        model_id=opponent,
        read_image=pack_image_reader(pack),
    )
    while game.has_next_round:
        dealt = game.next_round()
        assert not pack.has_image(dealt.image) and dealt.image_bytes  # a variant, served by the server
        live_server.clock.advance(1.2)  # a human's answer time on the server's clock, without sleeping
        game.answer(dealt.options[dealt.number % len(dealt.options)])
    return game


def test_a_ranked_session_end_to_end_is_verified_and_on_the_board(
    live_server, data_dir: Path, keyring_backend, catalog, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    client = ServerClient(live_server.url, TokenStore(live_server.url, data_dir, backend=keyring_backend))
    me = client.guest(display_name="Ranked Ann")
    game = _play(client, catalog, live_server)
    assert len(game.results) == game.rounds_total == 10
    assert all(r.verified for r in game.results)
    summary = game.summary()
    assert summary.is_verified, summary.problems
    assert summary.images_checked  # the game re-rendered every served variant from the pack and the seeds
    assert summary.score == sum(r.points for r in game.results) and summary.rounds == 10
    assert "?" not in {r.truth for r in game.results}  # the truths arrived with the end of the session
    around = client.around_me(PACK, "hard", "all")
    mine = [e for e in around["entries"] if e["player_id"] == me.id]
    assert mine and mine[0]["session_id"] == game.id and mine[0]["score"] == summary.score
    # The signed record is kept, and verifies offline with the key alone.
    store = Store(tmp_path / "game.db")
    store.save_ranked_record(
        server_url=live_server.url,
        record=summary.record,
        signature=summary.signature,
        public_key=summary.server_key,
        verified=True,
    )
    kept = store.ranked_record(game.id)
    store.close()
    assert kept["record"]["player"] == me.id and kept["record"]["score"] == summary.score
    assert verify_attestation(kept["record"], kept["signature"], kept["public_key"])
    # ... and `eyevsai verify` proves it from the file alone, with the server's public key.
    signed = tmp_path / "ranked.json"
    signed.write_text(json.dumps({"record": kept["record"], "signature": kept["signature"]}), encoding="utf-8")
    args = ["--data-dir", str(tmp_path / "verifier"), "verify", str(signed), "--server-key", kept["public_key"]]
    assert desktop_main(args) == 0
    assert "the server attested" in capsys.readouterr().out
    kept["record"]["score"] += 10
    signed.write_text(json.dumps({"record": kept["record"], "signature": kept["signature"]}), encoding="utf-8")
    assert desktop_main(args) == 1
    client.close()


def test_a_reveal_that_does_not_match_its_commitment_is_caught(
    live_server, data_dir: Path, keyring_backend, catalog
) -> None:
    def swap_ai_answer(reveal: dict) -> None:
        record = reveal["record"]
        other = next(o for o in record["options"] if o != record["answer"])
        record["answer"] = reveal["ai"]["answer"] = other  # "the AI was right after all"

    tokens = TokenStore(live_server.url, data_dir, backend=keyring_backend)
    client = ServerClient(live_server.url, tokens, transport=TamperingTransport("/answer", swap_ai_answer))
    client.guest()
    game = _play(client, catalog, live_server, difficulty="easy")
    assert not any(r.verified for r in game.results)
    summary = game.summary()
    assert (
        not summary.is_verified and "round 1: the revealed AI record does not match (commitment" in summary.problems[0]
    )
    client.close()


def test_a_server_seed_that_does_not_match_its_hash_is_caught(
    live_server, data_dir: Path, keyring_backend, catalog
) -> None:
    def other_seed(reveal: dict) -> None:
        if reveal["session"]["server_seed"]:
            reveal["session"]["server_seed"] = secrets.token_hex(32)

    tokens = TokenStore(live_server.url, data_dir, backend=keyring_backend)
    client = ServerClient(live_server.url, tokens, transport=TamperingTransport("/answer", other_seed))
    client.guest()
    summary = _play(client, catalog, live_server, difficulty="medium").summary()
    assert "the revealed server seed does not hash to the commitment shown at the start" in summary.problems
    assert any("the seed deals" in p for p in summary.problems)  # and it does not re-deal the rounds played
    assert any("not the seed's variant" in p for p in summary.problems)  # nor the served images
    client.close()


def test_a_changed_signing_key_or_a_forged_record_is_caught(
    live_server, data_dir: Path, keyring_backend, catalog
) -> None:
    client = ServerClient(live_server.url, TokenStore(live_server.url, data_dir, backend=keyring_backend))
    client.guest()
    game = _play(client, catalog, live_server, difficulty="easy")
    key = game.server_key
    assert game.summary(pinned_key=key).is_verified  # the key pinned on first use is the server's
    other = {"key_id": "0" * 16, "public_key": "A" * 43 + "="}
    assert "the server's signing key changed" in game.summary(pinned_key=other).problems[-1]
    game.attestation["record"]["score"] += 10  # a record "improved" after signing
    assert "the signature of the session's record is not the server's" in game.summary(pinned_key=key).problems
    client.close()


def test_a_stale_open_session_is_abandoned_and_counted_when_a_new_one_starts(
    live_server, data_dir: Path, keyring_backend
) -> None:
    client = ServerClient(live_server.url, TokenStore(live_server.url, data_dir, backend=keyring_backend))
    client.guest()
    stale = client.ranked_start(pack_id=PACK, difficulty="easy")  # e.g. the game crashed mid-session
    fresh = client.ranked_start(pack_id=PACK, difficulty="easy")
    assert fresh["id"] != stale["id"] and fresh["status"] == "seeding"
    history = {s["id"]: s["status"] for s in client.sessions()}
    assert history[stale["id"]] == "finished"  # it counts as played (abandoned)
    client.close()


def test_no_ranked_play_on_an_unknown_pack_says_so(live_server, data_dir: Path) -> None:
    from desktop.services.online.errors import ServerRefused

    client = ServerClient(live_server.url, TokenStore(live_server.url, data_dir))
    with pytest.raises(ServerRefused, match="no ranked play on pack 'cifar'"):
        ranked_setup(client, pack_id="cifar", difficulty="easy", local_ranked=[], model_id=None)
    client.close()
