"""Re-computing a ranked deal from the revealed server seed (DESIGN section 6). Pure: no Qt, no I/O.

The server deals round n from `HMAC-SHA256(key=bytes.fromhex(server_seed), msg=f"{client_seed}:{n}")` (then
`…:{n}:1`, `…:{n}:2` when more numbers are needed), each block read as eight big-endian unsigned 32-bit integers:
the image is `remaining[x0 mod len(remaining)]` of the pack's playable ranked images sorted by sha256 minus those
already shown; the distractors are popped from the other classes (sorted) at `x mod len(left)`; the options
`[truth, *distractors]` are shuffled by Fisher–Yates from the last position down. The game may not import the
server, so the algorithm is restated here; a parity test pins it to `sync_server.deal`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

DEFAULT_OPTIONS = 4


def seed_hash(server_seed: str) -> str:
    """The commitment to a server seed shown at the start: SHA-256 of its hex string."""
    return hashlib.sha256(server_seed.encode("ascii")).hexdigest()


def draws(server_seed: str, client_seed: str, number: int) -> Iterator[int]:
    """Round `number`'s stream of 32-bit numbers."""
    key = bytes.fromhex(server_seed)
    block = 0
    while True:
        message = f"{client_seed}:{number}" if block == 0 else f"{client_seed}:{number}:{block}"
        digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
        for offset in range(0, len(digest), 4):
            yield int.from_bytes(digest[offset:offset + 4], "big")
        block += 1


def image_index(server_seed: str, client_seed: str, number: int, remaining: int) -> int:
    """Which of the `remaining` unshown images (sorted by sha256) round `number` deals."""
    return next(draws(server_seed, client_seed, number)) % remaining


def options_for(server_seed: str, client_seed: str, number: int, truth: str, classes: Sequence[str],
                n_options: int = DEFAULT_OPTIONS) -> tuple[str, ...]:
    """The options round `number` shows for an image whose true class is `truth`, in shown order."""
    stream = draws(server_seed, client_seed, number)
    next(stream)  # x0 chose the image
    others = sorted(set(classes) - {truth})
    distractors = [others.pop(next(stream) % len(others)) for _ in range(min(n_options, len(others) + 1) - 1)]
    options = [truth, *distractors]
    for i in range(len(options) - 1, 0, -1):
        j = next(stream) % (i + 1)
        options[i], options[j] = options[j], options[i]
    return tuple(options)


@dataclass(frozen=True)
class PlayedRound:
    """What the player saw in a ranked round and the truth revealed after it."""

    number: int
    image: str
    options: tuple[str, ...]
    truth: str


def check_deal(*, server_seed: str, seed_commitment: str, client_seed: str, rounds: Sequence[PlayedRound],
               classes: Sequence[str], ranked_images: Sequence[str] | None) -> list[str]:
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
            problems.append(f"round {played.number}: the seed deals the options {list(expected)}, the server showed "
                            f"{list(played.options)}")
        shown.add(played.image)
    return problems
