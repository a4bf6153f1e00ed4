"""Ranked play through the server's round protocol, every commitment and the server seed checked by the game."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest

from desktop.services.online.client import ServerClient
from desktop.services.online.ranked import RankedGame, ranked_setup
from desktop.services.online.tokens import TokenStore

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


def _play(client: ServerClient, catalog, difficulty: str = "hard") -> RankedGame:
    pack = catalog.packs[PACK]
    local = [e.sha256 for e in pack.splits["ranked"]]
    pool, opponent = ranked_setup(client, pack_id=PACK, difficulty=difficulty, local_ranked=local, model_id=None)
    game = RankedGame.start(
        client, pack_id=PACK, difficulty=difficulty, classes=pack.classes, ranked_images=pool, model_id=opponent
    )
    while game.has_next_round:
        dealt = game.next_round()
        assert pack.has_image(dealt.image)  # the round shows an image of the game's own pack
        game.answer(dealt.options[dealt.number % len(dealt.options)])
    return game


def test_a_ranked_session_end_to_end_is_verified_and_on_the_board(
    live_server, data_dir: Path, keyring_backend, catalog
) -> None:
    client = ServerClient(live_server.url, TokenStore(live_server.url, data_dir, backend=keyring_backend))
    me = client.guest(display_name="Ranked Ann")
    game = _play(client, catalog)
    assert len(game.results) == game.rounds_total == 10
    assert all(r.verified for r in game.results)
    summary = game.summary()
    assert summary.is_verified, summary.problems
    assert summary.images_checked  # the game's pack holds the server's whole ranked set
    assert summary.score == sum(r.points for r in game.results) and summary.rounds == 10
    around = client.around_me(PACK, "hard", "all")
    mine = [e for e in around["entries"] if e["player_id"] == me.id]
    assert mine and mine[0]["session_id"] == game.id and mine[0]["score"] == summary.score
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
    game = _play(client, catalog, difficulty="easy")
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
    summary = _play(client, catalog, difficulty="medium").summary()
    assert "the revealed server seed does not hash to the commitment shown at the start" in summary.problems
    assert any("the seed deals" in p for p in summary.problems)  # and it does not re-deal the rounds played
    client.close()


def test_no_ranked_play_on_an_unknown_pack_says_so(live_server, data_dir: Path) -> None:
    from desktop.services.online.errors import ServerRefused

    client = ServerClient(live_server.url, TokenStore(live_server.url, data_dir))
    with pytest.raises(ServerRefused, match="no ranked play on pack 'cifar'"):
        ranked_setup(client, pack_id="cifar", difficulty="easy", local_ranked=[], model_id=None)
    client.close()
