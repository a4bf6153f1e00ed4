"""Leaderboard pages."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class LeaderboardRow(BaseModel):
    rank: int
    player_id: str
    display_name: str
    score: int
    accuracy: float = Field(description="Correct answers / rounds, 0..1.")
    total_time_ms: int
    rounds: int
    achieved_at: dt.datetime
    session_id: str


class LeaderboardPage(BaseModel):
    pack_id: str
    difficulty: str
    period: str
    period_start: dt.date
    period_end: dt.date | None = Field(description="First day after the period; null for all time.")
    is_closed: bool = Field(description="True when the period has ended (its board no longer changes).")
    total: int = Field(description="Players on this board.")
    entries: list[LeaderboardRow]
    next_cursor: str | None = None
