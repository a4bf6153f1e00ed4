"""Ranked play against the server's round protocol, checked by the game at every step (docs/design.md §5 and §6).

The server deals each round from its secret seed, shows the AI's commitment before the player answers, times the
answer itself and reveals the AI's answer with its salt. The game keeps the commitment it was shown and checks at
the reveal that the revealed record hashes to it and describes the round that was shown. At the end the server
reveals its seed: the game checks it against the hash shown at the start and re-deals every round from it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.core.session import Opponent, RoundResult
from desktop.services.online.client import ServerClient
from desktop.services.online.errors import OnlineError, ServerRefused
from game_rules.commitment import RoundRecord, verify_round, verify_session
from game_rules.deal import AiAnswer, DealtRound
from game_rules.ranked_deal import check_deal


class RankedProtocolError(OnlineError):
    """The server's answer does not fit the ranked protocol (a reveal that cannot be read)."""


@dataclass(frozen=True)
class RankedRound:
    """A dealt round as shown: the image, the options and the AI's commitment (truth unknown until the reveal).

    Not a `DealtRound`: it lacks the truth (the server reveals it only after the answer) and carries what the
    player sees before answering (the commitment and the round's time limit).
    """

    number: int
    image: str
    options: tuple[str, ...]
    commitment: str
    seconds: float


@dataclass
class RankedSummary:
    """The finished session as the server scored it, and what the game could verify."""

    score: int
    correct: int
    ai_correct: int
    rounds: int
    total_time_ms: int
    problems: list[str] = field(default_factory=list)
    images_checked: bool = False

    @property
    def is_verified(self) -> bool:
        return not self.problems


def _opponent(obj: dict[str, Any]) -> Opponent:
    return Opponent(
        model_id=str(obj["id"]),
        title=str(obj["title"]),
        onnx_sha256=str(obj["onnx_sha256"]),
        difficulty=str(obj["difficulty"]),
    )


def ranked_setup(
    client: ServerClient, *, pack_id: str, difficulty: str, local_ranked: Sequence[str], model_id: str | None
) -> tuple[list[str] | None, str | None]:
    """(images to re-check the deal against, opponent to ask for) for a ranked session on the server.

    The images are the pack's local ranked split when the server deals from exactly as many (then they are the same
    set and image choices can be re-checked), else None (only the options are re-checked). The opponent is
    `model_id` when the server offers it at that difficulty, else None (the server picks one).

    Raises:
        ServerRefused: the server offers no ranked play on this pack.
    """
    for pack in client.ranked_packs():
        if pack.get("id") != pack_id:
            continue
        pool = sorted(set(local_ranked)) if int(pack.get("images", -1)) == len(set(local_ranked)) else None
        offered = {o.get("id") for o in pack.get("opponents", []) if o.get("difficulty") == difficulty}
        if not offered:
            raise ServerRefused(
                404,
                "no opponent",
                f"The server has no {difficulty} AI opponent for ranked play on "
                f"pack '{pack_id}'. Choose another difficulty.",
            )
        return pool, model_id if model_id in offered else None
    raise ServerRefused(
        404,
        "no ranked pack",
        f"The server offers no ranked play on pack '{pack_id}'. Choose another pack, or play classic or blitz offline.",
    )


class RankedGame:
    """One ranked session; every method blocks on the network (run it in a worker)."""

    def __init__(
        self,
        client: ServerClient,
        started: dict[str, Any],
        *,
        client_seed: str,
        classes: Sequence[str],
        ranked_images: Sequence[str] | None,
    ) -> None:
        self.client = client
        self.id = str(started["id"])
        self.pack_id = str(started["pack_id"])
        self.difficulty = str(started["difficulty"])
        self.opponent = _opponent(started["opponent"])
        self.rounds_total = int(started["rounds_total"])
        self.seconds_per_round = float(started["seconds_per_round"])
        self.client_seed = client_seed
        self.seed_commitment = str(started["server_seed_hash"])  # kept from the start: the end is checked against it
        self.classes = list(classes)
        self.ranked_images = list(ranked_images) if ranked_images is not None else None
        self.problems: list[str] = []
        if started.get("client_seed") != client_seed:
            self.problems.append("the server did not use the game's client seed")
        self.results: list[RoundResult] = []
        self.current: RankedRound | None = None
        self.finished: dict[str, Any] | None = None

    @classmethod
    def start(
        cls,
        client: ServerClient,
        *,
        pack_id: str,
        difficulty: str,
        classes: Sequence[str],
        ranked_images: Sequence[str] | None,
        model_id: str | None = None,
        new_seed: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> RankedGame:
        """Start a session; the game's random client seed is mixed into every deal."""
        seed = new_seed()
        started = client.ranked_start(pack_id=pack_id, difficulty=difficulty, client_seed=seed, model_id=model_id)
        return cls(client, started, client_seed=seed, classes=classes, ranked_images=ranked_images)

    @property
    def has_next_round(self) -> bool:
        return self.finished is None and len(self.results) < self.rounds_total

    def next_round(self) -> RankedRound:
        """Deal the next round (the server's clock starts now); asking again repeats an unanswered round."""
        dealt = self.client.ranked_next(self.id)
        self.current = RankedRound(
            int(dealt["number"]),
            str(dealt["image_sha256"]),
            tuple(dealt["options"]),
            str(dealt["commitment"]).lower(),
            float(dealt["seconds"]),
        )
        return self.current

    def answer(self, choice: str | None) -> RoundResult:
        """Send the answer (None: time ran out) and check the revealed AI record against the shown commitment."""
        shown = self.current
        if shown is None:
            raise RuntimeError("answer() before next_round()")
        reveal = self.client.ranked_answer(self.id, shown.number, choice)
        try:
            record = RoundRecord.from_json_obj(reveal["record"])
            ai = reveal["ai"]
        except (KeyError, TypeError, ValueError) as exc:
            raise RankedProtocolError(
                f"The server's reveal of round {shown.number} cannot be read ({exc}); the session cannot be verified."
            ) from None
        mismatches = [
            name
            for name, ok in (
                ("commitment", verify_round(record, shown.commitment)),
                ("session", record.session == self.id),
                ("round", record.round == shown.number),
                ("image", record.image == shown.image),
                ("options", tuple(record.options) == shown.options),
                ("model", record.model == self.opponent.onnx_sha256),
                ("answer", record.answer == ai.get("answer") and record.confidence == ai.get("confidence")),
            )
            if not ok
        ]
        if mismatches:
            self.problems.append(
                f"round {shown.number}: the revealed AI record does not match ({', '.join(mismatches)})"
            )
        truth = str(reveal["truth"])
        result = RoundResult(
            number=shown.number,
            image=shown.image,
            options=shown.options,
            truth=truth,
            player_answer=reveal.get("answer"),
            elapsed_ms=int(reveal["elapsed_ms"]),
            player_correct=bool(reveal["is_correct"]),
            points=int(reveal["points"]),
            ai=AiAnswer(record.answer, record.confidence, str(ai.get("top1") or record.answer)),
            ai_correct=record.answer == truth,
            record=record,
            commitment=shown.commitment,
            verified=not mismatches,
        )
        self.results.append(result)
        self.current = None
        session = reveal.get("session") or {}
        if session.get("status") == "finished":
            self.finished = session
        return result

    def summary(self) -> RankedSummary:
        """The server's totals and every check of the finished session (call when has_next_round is False)."""
        session = self.finished or {}
        problems = list(self.problems)
        seed = session.get("server_seed")
        if not seed:
            problems.append("the server did not reveal its seed")
        else:
            played = [DealtRound(r.number, r.image, r.options, r.truth) for r in self.results]
            problems += check_deal(
                server_seed=str(seed),
                seed_commitment=self.seed_commitment,
                client_seed=self.client_seed,
                rounds=played,
                classes=self.classes,
                ranked_images=self.ranked_images,
            )
        if not verify_session([r.commitment for r in self.results], str(session.get("session_commitment") or "")):
            problems.append("the session commitment does not match the round commitments shown")
        if sum(r.points for r in self.results) != session.get("score"):
            problems.append("the session score is not the sum of the round points")
        return RankedSummary(
            score=int(session.get("score", 0)),
            correct=int(session.get("correct", 0)),
            ai_correct=int(session.get("ai_correct", 0)),
            rounds=len(self.results),
            total_time_ms=int(session.get("total_time_ms", 0)),
            problems=problems,
            images_checked=self.ranked_images is not None,
        )
