"""Error consistency between the player and the AI (Cohen's kappa on per-image correctness). Pure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifiers.metrics import cohen_kappa

MIN_ROUNDS = 10


def describe_consistency(pairs: Sequence[tuple[int, int]]) -> str:
    """A sentence about how alike the player's and the AI's mistakes are, from (player ok, AI ok) per round."""
    if len(pairs) < MIN_ROUNDS:
        return f"Error consistency needs at least {MIN_ROUNDS} played rounds (you have {len(pairs)})."
    player = np.array([p for p, _ in pairs], dtype=np.int64)
    ai = np.array([a for _, a in pairs], dtype=np.int64)
    both_wrong = int(np.sum((player == 0) & (ai == 0)))
    kappa = cohen_kappa(player, ai)
    if kappa is None or len(set(player.tolist())) == 1 or len(set(ai.tolist())) == 1:
        return (
            f"Over {len(pairs)} rounds one of you was always right or always wrong, so error consistency is undefined."
        )
    meaning = (
        "you fail on the same images"
        if kappa > 0.4
        else "your mistakes overlap a little"
        if kappa > 0.1
        else "you fail on different images"
    )
    return (
        f"Error consistency over {len(pairs)} rounds: Cohen's κ = {kappa:.2f} ({meaning}); "
        f"both wrong on {both_wrong} image(s)."
    )


def plain_consistency(pairs: Sequence[tuple[int, int]]) -> str | None:
    """The same in a player's words, or None where there is nothing to say yet (too few rounds, or one of you was
    always right or always wrong): the screen then says nothing rather than "undefined"."""
    if len(pairs) < MIN_ROUNDS:
        return None
    player = np.array([p for p, _ in pairs], dtype=np.int64)
    ai = np.array([a for _, a in pairs], dtype=np.int64)
    kappa = cohen_kappa(player, ai)
    if kappa is None or len(set(player.tolist())) == 1 or len(set(ai.tolist())) == 1:
        return None
    both_wrong = int(np.sum((player == 0) & (ai == 0)))
    if kappa > 0.4:
        verdict = "You and the AI trip on the same pictures"
    elif kappa > 0.1:
        verdict = "You and the AI sometimes trip on the same pictures"
    else:
        verdict = "You and the AI trip on different pictures"
    return (
        f"{verdict}: over {len(pairs)} rounds you were both wrong on {both_wrong} "
        f"(agreement of your mistakes, Cohen's κ = {kappa:.2f}: 0 is chance, 1 is identical)."
    )
