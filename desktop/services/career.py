"""A player's career, read from the store: the daily challenge, streaks, achievements, personal bests, stats and
the share text. The pure rules live in game_rules.daily and desktop/core (history, stats, achievements, share);
this module feeds them the store's rows and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from classifiers.errors import EyeVsAIError
from classifiers.pack import Pack
from desktop.core.achievements import ACHIEVEMENTS, Achievement, History, current_streak, earned
from desktop.core.history import RoundRecap, SessionRecap
from desktop.core.session import GameSession
from desktop.core.share import share_text
from desktop.core.stats import PlayerStats, is_personal_best, personal_bests, player_stats
from desktop.services.dealer import CommittingOpponent, start_session
from desktop.services.store import Store
from game_rules.daily import daily_seed, utc_day
from game_rules.modes import CLASSIC


class DailyAlreadyPlayedError(EyeVsAIError):
    """Today's challenge on this pack was already played by this profile."""


@dataclass(frozen=True)
class DailyChallenge:
    """Today's challenge on a pack: the same deal for everyone (classic rules), playable once."""

    pack_id: str
    day: date
    seed: str
    is_played: bool
    streak: int


def _utc_today() -> date:
    return utc_day(datetime.now(UTC))


class Career:
    """One profile's history as the home, end and stats screens read it.

    Args:
        store: the game's store (its single writer stays the GUI thread; this only reads, except `begin_daily`).
        profile_id: whose career.
        today: the current UTC day (a fixed day in tests).
    """

    def __init__(self, store: Store, profile_id: int, *, today: Callable[[], date] = _utc_today) -> None:
        self.store = store
        self.profile_id = profile_id
        self._today = today

    # -- history -------------------------------------------------------------------------------------------------
    def recaps(self, pack_id: str | None = None) -> list[SessionRecap]:
        """Every finished session of the profile (on the pack), oldest first."""
        where, args = "status = 'finished' AND profile_id = ?", [self.profile_id]
        if pack_id is not None:
            where, args = where + " AND pack_id = ?", [*args, pack_id]
        sessions = list(self.store.db["sessions"].rows_where(where, args, order_by="started, id"))
        rounds: dict[str, list[RoundRecap]] = {s["id"]: [] for s in sessions}
        if sessions:
            marks = ",".join("?" * len(sessions))
            sql = f"SELECT * FROM rounds WHERE session_id IN ({marks}) ORDER BY session_id, number"
            cursor = self.store.db.execute(sql, list(rounds))
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                r = dict(zip(names, row, strict=True))
                rounds[r["session_id"]].append(_round_recap(r))
        return [_session_recap(s, rounds[s["id"]]) for s in sessions]

    def recap(self, session_id: str) -> SessionRecap:
        """One finished session's recap.

        Raises:
            KeyError: no finished session of this profile has that id.
        """
        for recap in self.recaps():
            if recap.session_id == session_id:
                return recap
        raise KeyError(session_id)

    def history(self) -> History:
        return History(self.recaps(), self.store.daily_days(self.profile_id), self._today())

    # -- what the screens show -----------------------------------------------------------------------------------
    def stats(self, pack: Pack) -> PlayerStats:
        """Accuracy per class (yours, each opponent's), both confusion matrices and progress on the pack."""
        return player_stats(self.recaps(pack.id), pack.classes)

    def personal_bests(self) -> dict[tuple[str, str, str], SessionRecap]:
        """{(pack id, difficulty, 'classic' | 'blitz' | 'daily'): the best session by points}."""
        return personal_bests(self.recaps())

    def is_personal_best(self, session_id: str) -> bool:
        """True when the finished session beat every earlier one of its pack, difficulty and kind."""
        recaps = self.recaps()
        recap = next(r for r in recaps if r.session_id == session_id)
        return is_personal_best(recap, [r for r in recaps if r.started < recap.started])

    def achievements(self) -> list[tuple[Achievement, bool]]:
        """Every achievement with whether it is earned, in display order."""
        have = {a.id for a in earned(self.history())}
        return [(a, a.id in have) for a in ACHIEVEMENTS]

    def streak(self) -> int:
        """Consecutive days with a daily challenge played, as of today."""
        return current_streak(self.history())

    def share_text(self, session_id: str, *, pack_title: str, opponent_title: str) -> str:
        """The clipboard text of a finished session (desktop.core.share), dated by the day it was played."""
        recap = self.recap(session_id)
        day = recap.daily or date.fromisoformat(recap.started[:10])
        return share_text(recap, day=day, pack_title=pack_title, opponent_title=opponent_title)

    # -- the daily challenge -------------------------------------------------------------------------------------
    def daily(self, pack: Pack) -> DailyChallenge:
        """Today's challenge on the pack, whether it is played, and the current streak."""
        day = self._today()
        played = self.store.has_played_daily(self.profile_id, pack.id, day)
        return DailyChallenge(pack.id, day, daily_seed(pack.id, day), played, self.streak())

    def start_daily(
        self, pack: Pack, opponent: CommittingOpponent, *, session_id: str, new_salt: Callable[[], str]
    ) -> GameSession:
        """Deal today's challenge (classic rules, offline) and record it as played today.

        Raises:
            DailyAlreadyPlayedError: today's challenge on this pack was already started by this profile.
            PackError: the pack has too few readable test images.
        """
        challenge = self.daily(pack)
        if challenge.is_played:
            raise DailyAlreadyPlayedError(
                f"You have played today's challenge on {pack.title} already; a new one starts at midnight UTC."
            )
        session = start_session(pack, opponent, CLASSIC, seed=challenge.seed, session_id=session_id, new_salt=new_salt)
        self.store.begin_session(session, self.profile_id, session.opponent.difficulty, daily=challenge.day)
        return session


def _round_recap(row: dict[str, Any]) -> RoundRecap:
    return RoundRecap(
        number=row["number"],
        image=row["image"],
        truth=row["truth"],
        player_answer=row["player_answer"],
        ai_answer=row["ai_answer"],
        elapsed_ms=round((row["elapsed_s"] or 0.0) * 1000),
        points=row["points"] or 0,
    )


def _session_recap(row: dict[str, Any], rounds: list[RoundRecap]) -> SessionRecap:
    return SessionRecap(
        session_id=row["id"],
        pack_id=row["pack_id"],
        model_id=row["model_id"],
        difficulty=row["difficulty"],
        mode=row["mode"],
        started=row["started"],
        rounds=tuple(rounds),
        daily=date.fromisoformat(row["daily"]) if row.get("daily") else None,
    )
