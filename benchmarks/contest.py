"""Can the contest be won? Simulated players against every bundled opponent, per difficulty (issue 17).

Each simulated player answers a round right with a fixed probability (their accuracy on the question as shown)
and otherwise picks a wrong option at random, after a realistic answer time (log-normal around 3.5 s; 15 s is a
time-out). The AI's answers are its real ones: every opponent runs once over the pack's test images through the
game's own services (`LoadedOpponent.probabilities` on the view its answer rule allows), and every session is
dealt and committed by the game's dealer (`desktop.services.dealer.start_session`) and played through
`GameSession.answer`, so the winner is decided by the rules the game applies.

83.5 % is the human accuracy published for Fashion-MNIST (the dataset's crowd study, 10-way). With 4 options a
person does better, so the 83.5 % player is a conservative stand-in for the average player.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from classifiers.locations import bundled_assets_dir
from classifiers.pack import Pack
from desktop.core.session import GameSession, Opponent
from desktop.services.catalog import OpponentEntry, load_catalog
from desktop.services.dealer import start_session
from desktop.services.opponent import load_opponent
from game_rules.answer_rules import rule_for_difficulty
from game_rules.modes import CLASSIC
from game_rules.scoring import DIFFICULTIES

HUMAN_ACCURACY = 0.835  # Fashion-MNIST's published human accuracy
PLAYER_ACCURACIES = (0.70, HUMAN_ACCURACY, 0.95)
MEDIAN_ANSWER_S, ANSWER_SIGMA = 3.5, 0.45
FIXED_SALT = "0" * 64  # salts do not change answers; a fixed one keeps the simulation fast and repeatable


@dataclass(frozen=True)
class CachedOpponent:
    """An opponent whose probabilities (on its rule's view) were computed once for the whole pack."""

    rules_view: Opponent
    table: dict[str, dict[str, float]]

    def probabilities(
        self, pack: Pack, shas: Sequence[str], *, skip_broken: bool = False, view_px: int | None = None
    ) -> dict[str, dict[str, float]]:
        return {sha: self.table[sha] for sha in shas if sha in self.table}


@dataclass(frozen=True)
class ContestRow:
    """Win/draw/loss counts of one simulated player against one opponent."""

    difficulty: str
    model: str
    player_accuracy: float
    sessions: int
    wins: int
    draws: int
    losses: int
    ai_accuracy: float  # the AI's observed accuracy over the simulated rounds

    @property
    def win_rate(self) -> float:
        return self.wins / self.sessions


def cache_opponent(entry: OpponentEntry, pack: Pack, shas: Sequence[str], device: str | None) -> CachedOpponent:
    """Run the opponent once over the images, on the view its difficulty's rule lets it see."""
    loaded = load_opponent(entry, device=device)
    view_px = rule_for_difficulty(entry.difficulty).view_px
    return CachedOpponent(loaded.rules_view, loaded.probabilities(pack, shas, skip_broken=True, view_px=view_px))


def play_session(session: GameSession, accuracy: float, rng: random.Random) -> None:
    """Answer every round as a player of the given accuracy would."""
    while session.has_next_round:
        dealt = session.current_round()
        right = rng.random() < accuracy
        choice = dealt.truth if right else rng.choice([o for o in dealt.options if o != dealt.truth])
        elapsed = rng.lognormvariate(0, ANSWER_SIGMA) * MEDIAN_ANSWER_S
        session.answer(choice, elapsed)  # past the limit it counts as a time-out, as in the game


def simulate(pack: Pack, opponent: CachedOpponent, accuracy: float, sessions: int, *, seed: int = 0) -> ContestRow:
    """Deal and play `sessions` classic sessions of one player against one opponent."""
    rng = random.Random(f"{seed}:{opponent.rules_view.model_id}:{accuracy}")
    outcomes: Counter[str] = Counter()
    ai_right = rounds = 0
    for n in range(sessions):
        session = start_session(
            pack, opponent, CLASSIC, seed=f"contest-{seed}-{n}", session_id=f"contest-{n}", new_salt=lambda: FIXED_SALT
        )
        play_session(session, accuracy, rng)
        outcomes[session.winner] += 1
        ai_right, rounds = ai_right + session.ai_correct, rounds + len(session.results)
    view = opponent.rules_view
    return ContestRow(
        view.difficulty,
        view.model_id,
        accuracy,
        sessions,
        outcomes["player"],
        outcomes["draw"],
        outcomes["ai"],
        ai_right / max(1, rounds),
    )


def measure_contest(
    *,
    sessions: int = 400,
    accuracies: Sequence[float] = PLAYER_ACCURACIES,
    pack_id: str = "fashion-mnist",
    images: int | None = None,
    device: str | None = "cpu",
    roots: Sequence[Path] | None = None,
) -> list[ContestRow]:
    """Every bundled opponent against every simulated player, `sessions` dealt sessions each.

    Args:
        images: play on the first N test images only (a quick run); None: all of them.
    """
    catalog = load_catalog(list(roots) if roots else [bundled_assets_dir()])
    pack = catalog.packs[pack_id]
    pack = _first_images(pack, images) if images else pack
    shas = [e.sha256 for e in pack.available("test")]
    rows = []
    for entry in catalog.opponents_for(pack_id):
        opponent = cache_opponent(entry, pack, shas, device)
        rows.extend(simulate(pack, opponent, accuracy, sessions) for accuracy in accuracies)
    return sorted(rows, key=lambda r: (DIFFICULTIES.index(r.difficulty), r.model, r.player_accuracy))


def history_accuracy(db_path: Path) -> float | None:
    """The player's accuracy over every finished round in a local game database (None: no such file or rounds)."""
    if not db_path.is_file():
        return None
    with contextlib.closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        sql = "SELECT AVG(r.player_correct), COUNT(*) FROM rounds r JOIN sessions s ON s.id = r.session_id "
        mean, count = db.execute(sql + "WHERE s.status = 'finished'").fetchone()
    return float(mean) if count else None


def _first_images(pack: Pack, n: int) -> Pack:
    meta = {**pack.meta, "splits": {**pack.meta["splits"], "test": pack.meta["splits"]["test"][:n]}}
    return Pack(pack.root, meta)


def pooled(rows: Sequence[ContestRow]) -> list[ContestRow]:
    """The rows summed per difficulty and player accuracy (every opponent of a difficulty together)."""
    out = []
    for difficulty in DIFFICULTIES:
        for accuracy in sorted({r.player_accuracy for r in rows}):
            group = [r for r in rows if r.difficulty == difficulty and r.player_accuracy == accuracy]
            if not group:
                continue
            n = sum(r.sessions for r in group)
            ai = sum(r.ai_accuracy * r.sessions for r in group) / n
            wins, draws, losses = (sum(getattr(r, k) for r in group) for k in ("wins", "draws", "losses"))
            out.append(ContestRow(difficulty, "all", accuracy, n, wins, draws, losses, ai))
    return out


def _cell(row: ContestRow) -> str:
    n = row.sessions
    return f"{row.wins / n:4.0%} / {row.draws / n:4.0%} / {row.losses / n:4.0%}"


def contest_table(rows: Sequence[ContestRow]) -> Table:
    """Win / draw / loss of each simulated player, per opponent and pooled per difficulty."""
    accuracies = sorted({r.player_accuracy for r in rows})
    n = rows[0].sessions if rows else 0
    table = Table(
        title=f"Contest: simulated players vs the bundled opponents ({n} classic sessions each; win / draw / loss)",
        title_justify="left",
    )
    table.add_column("difficulty")
    table.add_column("opponent (answer rule)")
    table.add_column("AI right", justify="right")
    for accuracy in accuracies:
        table.add_column(f"player {accuracy:.1%}", justify="right")
    keyed = {(r.difficulty, r.model, r.player_accuracy): r for r in [*rows, *pooled(rows)]}
    for difficulty in DIFFICULTIES:
        models = sorted({r.model for r in rows if r.difficulty == difficulty})
        for model in [*models, "all"]:
            cells = [keyed.get((difficulty, model, a)) for a in accuracies]
            first = next(c for c in cells if c)
            label = f"{model} ({rule_for_difficulty(difficulty).name})" if model != "all" else "[b]all opponents[/]"
            table.add_row(difficulty, label, f"{first.ai_accuracy:.0%}", *(_cell(c) if c else "–" for c in cells))
    return table
