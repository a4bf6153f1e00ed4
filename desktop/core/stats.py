"""Statistics over a player's history: accuracy per class (yours and each opponent's), both confusion matrices,
progress over time and personal bests. Pure functions of `SessionRecap`s; the stats screen draws them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from desktop.core.history import RoundRecap, SessionRecap

PLAYER = "player"


@dataclass(frozen=True)
class Tally:
    """How many of `total` answers were right."""

    correct: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.correct / self.total if self.total else None


@dataclass(frozen=True)
class Confusion:
    """counts[i][j]: rounds whose truth is classes[i] answered classes[j]; no_answer[i]: rounds that timed out.

    An answer outside `classes` (a class the pack no longer has) is left out.
    """

    classes: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    no_answer: tuple[int, ...]


@dataclass(frozen=True)
class ProgressPoint:
    """One session on the progress chart, oldest first."""

    started: str
    points: int
    player_correct: int
    ai_correct: int
    rounds: int
    winner: str


def play_kind(recap: SessionRecap) -> str:
    """The kind a personal best is kept for: 'daily' for the daily challenge, else the mode."""
    return "daily" if recap.daily is not None else recap.mode


def _answer(r: RoundRecap, who: str) -> str | None:
    return r.player_answer if who == PLAYER else r.ai_answer


def class_accuracy(sessions: Iterable[SessionRecap], who: str = PLAYER) -> dict[str, Tally]:
    """Accuracy per true class for the player (who='player') or the AI (who='ai'), over the given sessions."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for session in sessions:
        for r in session.rounds:
            counts[r.truth][0] += _answer(r, who) == r.truth
            counts[r.truth][1] += 1
    return {label: Tally(c, t) for label, (c, t) in sorted(counts.items())}


def ai_class_accuracy_by_opponent(sessions: Iterable[SessionRecap]) -> dict[str, dict[str, Tally]]:
    """{model id: accuracy per true class} for every opponent met."""
    by_model: dict[str, list[SessionRecap]] = defaultdict(list)
    for session in sessions:
        by_model[session.model_id].append(session)
    return {model: class_accuracy(group, "ai") for model, group in sorted(by_model.items())}


def confusion(sessions: Iterable[SessionRecap], classes: Sequence[str], who: str = PLAYER) -> Confusion:
    """The confusion matrix of the player's (or the AI's) answers over the given sessions."""
    index = {label: i for i, label in enumerate(classes)}
    counts = [[0] * len(classes) for _ in classes]
    no_answer = [0] * len(classes)
    for session in sessions:
        for r in session.rounds:
            row = index.get(r.truth)
            if row is None:
                continue
            answer = _answer(r, who)
            if answer is None:
                no_answer[row] += 1
            elif answer in index:
                counts[row][index[answer]] += 1
    return Confusion(tuple(classes), tuple(tuple(row) for row in counts), tuple(no_answer))


def progress(sessions: Iterable[SessionRecap]) -> list[ProgressPoint]:
    """Sessions → points series, oldest first."""
    return [
        ProgressPoint(s.started, s.player_points, s.player_correct, s.ai_correct, len(s.rounds), s.winner)
        for s in sorted(sessions, key=lambda s: s.started)
    ]


def personal_bests(sessions: Iterable[SessionRecap]) -> dict[tuple[str, str, str], SessionRecap]:
    """The best session per (pack, difficulty, kind) by points (a tie keeps the earlier one)."""
    best: dict[tuple[str, str, str], SessionRecap] = {}
    for s in sorted(sessions, key=lambda s: s.started):
        key = (s.pack_id, s.difficulty, play_kind(s))
        if key not in best or s.player_points > best[key].player_points:
            best[key] = s
    return best


def is_personal_best(recap: SessionRecap, earlier: Iterable[SessionRecap]) -> bool:
    """True when `recap` beats every earlier session of its pack, difficulty and kind (the first one counts)."""
    key = (recap.pack_id, recap.difficulty, play_kind(recap))
    previous = personal_bests(s for s in earlier if s.session_id != recap.session_id).get(key)
    return previous is None or recap.player_points > previous.player_points


@dataclass(frozen=True)
class PlayerStats:
    """Everything the stats screen shows for one player on one pack."""

    classes: tuple[str, ...]
    sessions: int
    player_accuracy: dict[str, Tally]
    ai_accuracy: dict[str, dict[str, Tally]]  # model id -> per class
    player_confusion: Confusion
    ai_confusion: Confusion
    progress: list[ProgressPoint]


def player_stats(sessions: Sequence[SessionRecap], classes: Sequence[str]) -> PlayerStats:
    """The stats of the given sessions (one pack's, typically) over the pack's classes."""
    return PlayerStats(
        tuple(classes),
        len(sessions),
        class_accuracy(sessions, PLAYER),
        ai_class_accuracy_by_opponent(sessions),
        confusion(sessions, classes, PLAYER),
        confusion(sessions, classes, "ai"),
        progress(sessions),
    )
