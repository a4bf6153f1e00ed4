"""Starting a game: deal the rounds and let the opponent commit to its answers. No Qt: the window runs this in a
worker and `eyevsai --self-test` runs it directly, so both play through the same code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from classifiers.errors import PackError
from classifiers.pack import Pack
from desktop.core.session import GameSession, Opponent
from game_rules.answer_rules import rule_for_difficulty
from game_rules.deal import DealtRound, deal
from game_rules.modes import Mode

BLITZ_DEALT_ROUNDS = 60
SPARE_ROUNDS = 5


class CommittingOpponent(Protocol):
    """What dealing needs from an opponent: its rules view and its probabilities on pack images."""

    @property
    def rules_view(self) -> Opponent: ...

    def probabilities(
        self, pack: Pack, shas: list[str], *, skip_broken: bool = False, view_px: int | None = None
    ) -> dict[str, dict[str, float]]: ...


def keep_playable(candidates: Sequence[DealtRound], playable: set[str], n_rounds: int) -> list[DealtRound]:
    """The first n_rounds candidates whose image is playable (decodes), renumbered 1..n.

    Raises:
        PackError: fewer than n_rounds playable candidates.
    """
    kept = [r for r in candidates if r.image in playable][:n_rounds]
    if len(kept) < n_rounds:
        raise PackError(
            f"Only {len(kept)} of the dealt images could be read; {n_rounds} are needed. "
            "The pack's image files may be damaged: reinstall or rebuild it."
        )
    return [replace(r, number=i) for i, r in enumerate(kept, start=1)]


def start_session(
    pack: Pack, opponent: CommittingOpponent, mode: Mode, *, seed: str, session_id: str, new_salt: Callable[[], str]
) -> GameSession:
    """Deal a session on the pack's test split and commit the opponent's answer to every dealt round.

    Args:
        seed: the session seed; equal seeds deal equal sessions.
        session_id: the session's uuid (part of every commitment).
        new_salt: source of 64-hex-char salts (game_rules.commitment.new_salt in the game).

    Raises:
        PackError: the pack has no test images, or too few of them are readable.
        ValueError: the pack has fewer than two classes.
    """
    images = [(e.sha256, e.label) for e in pack.available("test")]
    if not images:
        raise PackError(f"Pack '{pack.id}' has no test images to play on. Reinstall or rebuild the pack.")
    n_rounds = min(mode.rounds or BLITZ_DEALT_ROUNDS, len(images))
    # A few spare candidates stand in for images that turn out to be unreadable.
    candidates = deal(seed, images, pack.classes, min(len(images), n_rounds + SPARE_ROUNDS))
    view_px = rule_for_difficulty(opponent.rules_view.difficulty).view_px  # the AI sees what its handicap allows
    probabilities = opponent.probabilities(pack, [r.image for r in candidates], skip_broken=True, view_px=view_px)
    rounds = keep_playable(candidates, set(probabilities), n_rounds)
    return GameSession.start(
        session_id=session_id,
        seed=seed,
        pack_id=pack.id,
        mode=mode,
        opponent=opponent.rules_view,
        rounds=rounds,
        probabilities=probabilities,
        new_salt=new_salt,
    )
