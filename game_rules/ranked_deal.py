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

The served image is a variant of the dealt one (game_rules.variants): its parameters come from a second stream
of the round, `HMAC-SHA256(key=bytes.fromhex(server_seed), msg=f"{C}:{n}:variant")`, read the same way.

The server commits to SHA-256 of the seed's hex string before the client sends C, and reveals the seed when the
session ends: the server cannot pick a deal (it cannot know C when it fixes the seed), the client cannot either (it
sees only the seed's hash), and a player can check that no round was chosen after seeing their answers. The
server deals with `deal_round`; the game re-deals a finished session with `check_deal` (through `image_index`,
`options_for` and `variant_for`): one algorithm for both, and one round type (`game_rules.deal.DealtRound`)
for what the server dealt and what the player saw.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Sequence

from game_rules.deal import DealtRound
from game_rules.modes import DEFAULT_OPTIONS
from game_rules.variants import VariantParams, params_from

# checks that a served image (its round, with the served variant's hash as `image`) is the variant the seeds give
# of the pack image `source`; the pixel work lives outside game_rules (classifiers.variants)
VariantCheck = Callable[[DealtRound, str, VariantParams], bool]


def seed_hash(server_seed: str) -> str:
    """The commitment to a server seed shown at the start: SHA-256 of its hex string."""
    return hashlib.sha256(server_seed.encode("ascii")).hexdigest()


def draws(server_seed: str, client_seed: str, number: int, purpose: str = "") -> Iterator[int]:
    """The round's stream of 32-bit numbers (see the module docstring); purpose "variant" gives the second one."""
    key = bytes.fromhex(server_seed)
    base = f"{client_seed}:{number}" + (f":{purpose}" if purpose else "")
    block = 0
    while True:
        message = base if block == 0 else f"{base}:{block}"
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


def variant_for(server_seed: str, client_seed: str, number: int) -> VariantParams:
    """The changes round `number`'s served image gets (game_rules.variants)."""
    return params_from(draws(server_seed, client_seed, number, "variant"))


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
    variant_matches: VariantCheck | None = None,
) -> list[str]:
    """Problems found re-dealing a finished ranked session from its revealed seed; empty when all is right.

    Args:
        seed_commitment: the seed hash the server showed before the client sent its seed.
        rounds: what the player saw in each round (`image`: the served variant's hash), with the truth revealed
            at the end.
        ranked_images: the server's playable ranked images (sha256). When None the image choice cannot be
            checked (the client's pack does not hold exactly the server's ranked set); options still are.
        variant_matches: whether a served image is the seed's variant of the dealt pack image; None skips it.
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
            if not remaining:
                problems.append(f"round {played.number}: no ranked image was left to deal")
                continue
            source = remaining[image_index(server_seed, client_seed, played.number, len(remaining))]
            params = variant_for(server_seed, client_seed, played.number)
            if variant_matches is not None and not variant_matches(played, source, params):
                problems.append(
                    f"round {played.number}: the served image is not the seed's variant of image {source[:12]}…"
                )
            shown.add(source)
        expected = options_for(server_seed, client_seed, played.number, played.truth, classes)
        if expected != played.options:
            problems.append(
                f"round {played.number}: the seed deals the options {list(expected)}, the server showed "
                f"{list(played.options)}"
            )
    return problems
