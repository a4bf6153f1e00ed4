"""The ranked deal (docs/design.md §6): which image and options a round shows, recomputable once the seed is out.

For round n (1-based) of a session with client seed C, the server draws 32-bit numbers from
`HMAC-SHA256(key=bytes.fromhex(server_seed), msg=f"{C}:{n}")` (then `f"{C}:{n}:1"`, `f"{C}:{n}:2"`, … when more
are needed), each block read as eight big-endian unsigned 32-bit integers x0, x1, … in order, and:

1. image: the pack's playable ranked images sorted by sha256, minus those already shown in this session;
   the image at index `x0 mod len(remaining)`;
2. distractors: the pack's other classes sorted; `n_options − 1` times, remove and take the one at index
   `x mod len(left)` with the next x;
3. order: `[truth, *distractors]`, shuffled by Fisher–Yates from the last position down: for i = k−1 … 1,
   swap positions i and `x mod (i + 1)` with the next x.

The server seed's SHA-256 is shown when the session starts and the seed itself when it ends, so a player can
check that no round was chosen after seeing their answers. The server deals with `deal_round`; the game re-deals
a finished session with `check_deal` (through `image_index` and `options_for`): one algorithm for both, and one
round type (`game_rules.deal.DealtRound`) for what the server dealt and what the player saw.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence

from game_rules.deal import DealtRound
from game_rules.modes import DEFAULT_OPTIONS


def seed_hash(server_seed: str) -> str:
    """The commitment to a server seed shown at the start: SHA-256 of its hex string."""
    return hashlib.sha256(server_seed.encode("ascii")).hexdigest()


def draws(server_seed: str, client_seed: str, number: int) -> Iterator[int]:
    """The round's stream of 32-bit numbers (see the module docstring)."""
    key = bytes.fromhex(server_seed)
    block = 0
    while True:
        message = f"{client_seed}:{number}" if block == 0 else f"{client_seed}:{number}:{block}"
        digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
        for offset in range(0, len(digest), 4):
            yield int.from_bytes(digest[offset : offset + 4], "big")
        block += 1


def deal_round(
    *,
    server_seed: str,
    client_seed: str,
    number: int,
    images: Sequence[tuple[str, str]],
    shown: set[str],
    classes: Sequence[str],
    n_options: int = DEFAULT_OPTIONS,
) -> DealtRound:
    """Round `number`'s image and options.

    Args:
        images: (sha256, label) of the pack's playable ranked images, in any order (sorted here).
        shown: images already dealt in this session.
        classes: the pack's classes; options are the truth plus distractors from the others.

    Raises:
        ValueError: no image left, or fewer than two classes.
    """
    remaining = sorted(image for image in images if image[0] not in shown)
    if not remaining:
        raise ValueError("Every ranked image of the pack has been shown in this session.")
    stream = draws(server_seed, client_seed, number)
    sha, truth = remaining[next(stream) % len(remaining)]
    if not set(classes) - {truth}:
        raise ValueError("A round needs at least two classes.")
    return DealtRound(number=number, image=sha, options=_options(stream, truth, classes, n_options), truth=truth)


def image_index(server_seed: str, client_seed: str, number: int, remaining: int) -> int:
    """Which of the `remaining` unshown images (sorted by sha256) round `number` deals."""
    return next(draws(server_seed, client_seed, number)) % remaining


def options_for(
    server_seed: str,
    client_seed: str,
    number: int,
    truth: str,
    classes: Sequence[str],
    n_options: int = DEFAULT_OPTIONS,
) -> tuple[str, ...]:
    """The options round `number` shows for an image whose true class is `truth`, in shown order."""
    stream = draws(server_seed, client_seed, number)
    next(stream)  # x0 chose the image
    return _options(stream, truth, classes, n_options)


def _options(stream: Iterator[int], truth: str, classes: Sequence[str], n_options: int) -> tuple[str, ...]:
    """Steps 2 and 3: distractors from the other classes, then the Fisher–Yates shuffle, from the stream after x0."""
    others = sorted(set(classes) - {truth})
    distractors = [others.pop(next(stream) % len(others)) for _ in range(min(n_options, len(others) + 1) - 1)]
    options = [truth, *distractors]
    for i in range(len(options) - 1, 0, -1):
        j = next(stream) % (i + 1)
        options[i], options[j] = options[j], options[i]
    return tuple(options)


def check_deal(
    *,
    server_seed: str,
    seed_commitment: str,
    client_seed: str,
    rounds: Sequence[DealtRound],
    classes: Sequence[str],
    ranked_images: Sequence[str] | None,
) -> list[str]:
    """Problems found re-dealing a finished ranked session from its revealed seed; empty when all is right.

    Args:
        seed_commitment: the seed hash the server showed before the first round.
        rounds: what the player saw in each round, with the truth revealed after it.
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
