"""How plausible a ranked session is for a person (docs/design.md §6): fast answers and a z-score-like score.

An answer faster than `MIN_HUMAN_MS` (server-measured) is not a human reaction: it earns no speed bonus and marks
the session. Each ended session gets `max(z_acc + z_speed, z_history)` against the pack's other players (blended
with a prior, so that a small or bot-filled population cannot make anything look normal) and the player's own
history; a marked session or one above `HOLD_THRESHOLD` is held for an operator's review.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.models import GameSession, SessionRound

MIN_HUMAN_MS = 300
HOLD_THRESHOLD = 4.0
PRIOR_SESSIONS = 20  # the prior weighs as much as 20 sessions of other players
PRIOR_ACCURACY, PRIOR_ACCURACY_SD, MIN_ACCURACY_SD = 0.70, 0.15, 0.05
PRIOR_TIME_MS, PRIOR_TIME_SD, MIN_TIME_SD = 4000.0, 1500.0, 300.0
Z_CLIP, HISTORY_CLIP = 4.0, 8.0
POPULATION_LIMIT, HISTORY_LIMIT = 2000, 200


@dataclass(frozen=True)
class SessionStats:
    accuracy: float
    median_ms: float | None  # None: no round answered


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def blended(values: Sequence[float], prior_mean: float, prior_sd: float, floor: float) -> tuple[float, float]:
    """Mean and deviation of `values` plus PRIOR_SESSIONS pseudo-values with the prior's mean and deviation."""
    n = len(values)
    mean = (PRIOR_SESSIONS * prior_mean + sum(values)) / (PRIOR_SESSIONS + n)
    spread = PRIOR_SESSIONS * (prior_sd**2 + (prior_mean - mean) ** 2) + sum((v - mean) ** 2 for v in values)
    return mean, max(floor, math.sqrt(spread / (PRIOR_SESSIONS + n)))


def score(stats: SessionStats, population: Sequence[SessionStats], history: Sequence[SessionStats]) -> float:
    """The plausibility score of a session; `history` is the player's ended sessions of the pack, this one included.

    Higher is less plausible; above HOLD_THRESHOLD the session is held.
    """
    mu_a, sd_a = blended([s.accuracy for s in population], PRIOR_ACCURACY, PRIOR_ACCURACY_SD, MIN_ACCURACY_SD)
    times = [s.median_ms for s in population if s.median_ms is not None]
    mu_t, sd_t = blended(times, PRIOR_TIME_MS, PRIOR_TIME_SD, MIN_TIME_SD)
    z_acc = _clip((stats.accuracy - mu_a) / sd_a, -Z_CLIP, Z_CLIP)
    z_speed = 0.0 if stats.median_ms is None else _clip((mu_t - stats.median_ms) / sd_t, -Z_CLIP, Z_CLIP)
    n = max(1, len(history))
    mean_history = statistics.fmean(s.accuracy for s in history) if history else stats.accuracy
    z_history = _clip((mean_history - mu_a) / (sd_a / math.sqrt(n)), 0.0, HISTORY_CLIP)
    return max(z_acc + z_speed, z_history)


def _stats_of(session: Session, games: Sequence[GameSession]) -> list[SessionStats]:
    if not games:
        return []
    times: dict[int, list[int]] = {g.id: [] for g in games}
    rows = session.execute(
        select(SessionRound.session_id, SessionRound.elapsed_ms).where(
            SessionRound.session_id.in_(list(times)),
            SessionRound.player_answer.is_not(None),
            SessionRound.elapsed_ms.is_not(None),
        )
    )
    for session_id, elapsed in rows:
        times[session_id].append(int(elapsed))
    return [
        SessionStats(
            g.correct / g.rounds_played if g.rounds_played else 0.0,
            statistics.median(times[g.id]) if times[g.id] else None,
        )
        for g in games
    ]


def session_score(*, session: Session, game: GameSession) -> float:
    """The score of an ended ranked session against the pack's other players and the player's own history."""
    ended = select(GameSession).where(
        GameSession.mode == "ranked",
        GameSession.pack_id == game.pack_id,
        GameSession.ended_as.is_not(None),
        GameSession.id != game.id,
    )
    # The most recent sessions are enough to know the population and the player, and keep this bounded.
    recent = ended.order_by(GameSession.id.desc())
    others = list(session.scalars(recent.where(GameSession.user_id != game.user_id).limit(POPULATION_LIMIT)))
    own = list(session.scalars(recent.where(GameSession.user_id == game.user_id).limit(HISTORY_LIMIT)))
    this = _stats_of(session, [game])[0]
    return score(this, _stats_of(session, others), [*_stats_of(session, own), this])
