"""The share text: a short grid of you vs the AI, round by round, with the date and score, for the clipboard.

Pure: the end screen copies it, and renders the same lines as a PNG card (desktop/ui).
"""

from __future__ import annotations

from datetime import date

from desktop.core.history import SessionRecap

RIGHT, WRONG, TIMED_OUT = "🟩", "🟥", "⬛"


def _cells(recap: SessionRecap, who: str) -> str:
    cells = []
    for r in recap.rounds:
        if who == "player":
            cells.append(TIMED_OUT if r.player_answer is None else RIGHT if r.player_correct else WRONG)
        else:
            cells.append(RIGHT if r.ai_correct else WRONG)
    return "".join(cells)


def verdict(recap: SessionRecap) -> str:
    """'You won', 'The AI won' or 'A draw'."""
    return {"player": "You won", "ai": "The AI won", "draw": "A draw"}[recap.winner]


def share_text(recap: SessionRecap, *, day: date, pack_title: str, opponent_title: str) -> str:
    """The lines a player pastes: title with the day, the verdict and score, then one row each for you and the AI.

    Example:
        EyeVsAI daily 2026-11-30 · Fashion-MNIST
        You 8/10 vs Deep CNN 7/10 (medium): You won · 176 pts
        You 🟩🟩🟥…
        AI  🟩🟥🟩…
    """
    n = len(recap.rounds)
    kind = "daily" if recap.daily is not None else recap.mode
    return "\n".join(
        [
            f"EyeVsAI {kind} {day.isoformat()} · {pack_title}",
            f"You {recap.player_correct}/{n} vs {opponent_title} {recap.ai_correct}/{n} ({recap.difficulty}): "
            f"{verdict(recap)} · {recap.player_points} pts",
            f"You {_cells(recap, 'player')}",
            f"AI  {_cells(recap, 'ai')}",
        ]
    )
