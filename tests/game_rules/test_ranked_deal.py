"""The ranked deal (docs/design.md §6): the server deals from its seed, the game re-deals and checks the session."""

from __future__ import annotations

import random
import secrets

from game_rules.deal import DealtRound
from game_rules.ranked_deal import check_deal, deal_round, image_index, options_for, seed_hash

CLASSES = ["bag", "boot", "coat", "dress", "pullover", "sandal", "shirt", "sneaker", "top", "trouser"]
IMAGES = sorted((f"{i:064x}", CLASSES[i % len(CLASSES)]) for i in range(40))
POOL = [sha for sha, _ in IMAGES]


def _deal_session(seed: str, client_seed: str, rounds: int) -> list[DealtRound]:
    dealt: list[DealtRound] = []
    for number in range(1, rounds + 1):
        shown = {r.image for r in dealt}
        dealt.append(
            deal_round(
                server_seed=seed, client_seed=client_seed, number=number, images=IMAGES, shown=shown, classes=CLASSES
            )
        )
    return dealt


def _check(seed: str, client_seed: str, rounds: list[DealtRound], **change: object) -> list[str]:
    args: dict = dict(
        server_seed=seed,
        seed_commitment=seed_hash(seed),
        client_seed=client_seed,
        rounds=rounds,
        classes=CLASSES,
        ranked_images=POOL,
        # the pixel check of a served variant is classifiers'; here the "variant" is the pack image itself
        variant_matches=lambda played, source, params: played.image == source,
    )
    return check_deal(**{**args, **change})


def test_the_games_re_deal_accepts_the_servers_deal_and_catches_a_swapped_image() -> None:
    rng = random.Random(7)
    for _ in range(10):
        seed, client_seed = secrets.token_hex(32), secrets.token_hex(8)
        played = _deal_session(seed, client_seed, rng.randint(1, 11))
        shown: set[str] = set()
        for dealt in played:
            remaining = [sha for sha in POOL if sha not in shown]
            assert remaining[image_index(seed, client_seed, dealt.number, len(remaining))] == dealt.image
            assert options_for(seed, client_seed, dealt.number, dealt.truth, CLASSES) == dealt.options
            shown.add(dealt.image)
        assert _check(seed, client_seed, played) == []
        other = next(sha for sha in POOL if sha != played[0].image)  # the server showed another image than dealt
        swapped = [DealtRound(1, other, played[0].options, played[0].truth), *played[1:]]
        assert _check(seed, client_seed, swapped)


def test_a_seed_that_does_not_match_its_commitment_or_reordered_options_are_caught() -> None:
    seed, client_seed = secrets.token_hex(32), "c0ffee"
    played = _deal_session(seed, client_seed, 3)
    assert _check(seed, client_seed, played, seed_commitment=seed_hash(secrets.token_hex(32))) == [
        "the revealed server seed does not hash to the commitment shown at the start"
    ]
    first = played[0]
    reordered = [DealtRound(1, first.image, first.options[::-1], first.truth), *played[1:]]
    assert any("deals the options" in p for p in _check(seed, client_seed, reordered))
    assert "not 64 lowercase hex" in _check("XYZ", client_seed, played)[0]


def test_without_the_servers_image_set_only_the_options_are_checked() -> None:
    seed, client_seed = secrets.token_hex(32), "c0ffee"
    played = _deal_session(seed, client_seed, 3)
    other = next(sha for sha in POOL if sha != played[0].image)
    swapped = [DealtRound(1, other, played[0].options, played[0].truth), *played[1:]]
    assert _check(seed, client_seed, swapped, ranked_images=None) == []


def test_the_ranked_deal_gives_the_games_one_round_type() -> None:
    dealt = _deal_session(secrets.token_hex(32), "c0ffee", 1)[0]
    assert type(dealt) is DealtRound and dealt.truth in dealt.options and len(dealt.options) == 4
