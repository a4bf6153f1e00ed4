"""Re-checking a finished ranked session from the revealed server seed (DESIGN section 6). Pure: no Qt, no I/O.

The deal itself (which image and options each round shows) is `classifiers.ranked_deal`, the same code the
server deals with.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.ranked_deal import image_index, options_for, seed_hash


@dataclass(frozen=True)
class PlayedRound:
    """What the player saw in a ranked round and the truth revealed after it."""

    number: int
    image: str
    options: tuple[str, ...]
    truth: str


def check_deal(
    *,
    server_seed: str,
    seed_commitment: str,
    client_seed: str,
    rounds: Sequence[PlayedRound],
    classes: Sequence[str],
    ranked_images: Sequence[str] | None,
) -> list[str]:
    """Problems found re-dealing a finished ranked session from its revealed seed; empty when all is right.

    Args:
        seed_commitment: the seed hash the server showed before the first round.
        ranked_images: the server's playable ranked images (sha256). When None the image choice cannot be
            checked (the client's pack does not hold exactly the server's ranked set); options still are.
    """
    if len(server_seed) != 64 or any(c not in "0123456789abcdef" for c in server_seed):
        return [f"the revealed server seed {server_seed[:16]!r}… is not 64 lowercase hex characters"]
    problems = []
    if not hmac.compare_digest(seed_hash(server_seed), seed_commitment.lower()):
        problems.append("the revealed server seed does not hash to the commitment shown at the start")
    pool = sorted(set(ranked_images)) if ranked_images is not None else None
    shown: set[str] = set()
    for played in sorted(rounds, key=lambda r: r.number):
        if pool is not None:
            remaining = [sha for sha in pool if sha not in shown]
            if not remaining or played.image not in remaining:
                problems.append(f"round {played.number}: image {played.image[:12]}… is not one the deal could pick")
            elif remaining[image_index(server_seed, client_seed, played.number, len(remaining))] != played.image:
                problems.append(f"round {played.number}: the seed deals another image than the one shown")
        expected = options_for(server_seed, client_seed, played.number, played.truth, classes)
        if expected != played.options:
            problems.append(
                f"round {played.number}: the seed deals the options {list(expected)}, the server showed "
                f"{list(played.options)}"
            )
        shown.add(played.image)
    return problems
