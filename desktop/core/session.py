"""A game session: dealt rounds, the AI's committed answers, the player's answers and the score. Pure: no Qt, no I/O.

The AI's answers for every dealt round are computed and committed when the session is built, so the session
commitment shown at start binds all of them; each round's record (with its salt) is revealed after the player
answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from classifiers.commitment import RoundRecord, session_commitment, verify_round
from desktop.core.rules import AiAnswer, DealtRound, Mode, ai_answer, points

PROOF_FORMAT = "eyevsai-proof"
PROOF_VERSION = 1


@dataclass(frozen=True)
class Opponent:
    """What the rules need to know about the AI opponent."""

    model_id: str
    title: str
    onnx_sha256: str
    difficulty: str


@dataclass(frozen=True)
class RoundResult:
    """A played round, as shown after the reveal and stored."""

    number: int
    image: str
    options: tuple[str, ...]
    truth: str
    player_answer: str | None  # None: time ran out
    elapsed_s: float
    player_correct: bool
    points: int
    ai: AiAnswer
    ai_correct: bool
    record: RoundRecord
    commitment: str
    verified: bool


@dataclass
class GameSession:
    """One session's state. Build it with `GameSession.start`; feed answers with `answer`."""

    session_id: str
    seed: str
    pack_id: str
    mode: Mode
    opponent: Opponent
    rounds: list[DealtRound]
    ai_answers: list[AiAnswer]
    records: list[RoundRecord]
    commitments: list[str]
    results: list[RoundResult] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        *,
        session_id: str,
        seed: str,
        pack_id: str,
        mode: Mode,
        opponent: Opponent,
        rounds: Sequence[DealtRound],
        probabilities: Mapping[str, Mapping[str, float]],
        new_salt: Callable[[], str],
    ) -> GameSession:
        """Fix and commit the AI's answer for every dealt round.

        Args:
            probabilities: image sha256 -> {label: probability} from the opponent's model.
            new_salt: source of 64-hex-char salts (a CSPRNG in the app, fixed in tests).
        """
        answers, records = [], []
        for dealt in rounds:
            answer = ai_answer(probabilities[dealt.image], dealt.options)
            answers.append(answer)
            records.append(
                RoundRecord(
                    session=session_id,
                    round=dealt.number,
                    image=dealt.image,
                    model=opponent.onnx_sha256,
                    options=dealt.options,
                    answer=answer.answer,
                    confidence=answer.confidence,
                    salt=new_salt(),
                )
            )
        commitments = [record.commitment() for record in records]
        return cls(session_id, seed, pack_id, mode, opponent, list(rounds), answers, records, commitments)

    # -- progress ---------------------------------------------------------------------------------------------
    @property
    def session_commitment(self) -> str:
        return session_commitment(self.commitments)

    @property
    def current_index(self) -> int:
        return len(self.results)

    @property
    def has_next_round(self) -> bool:
        return self.current_index < len(self.rounds)

    def current_round(self) -> DealtRound:
        if not self.has_next_round:
            raise IndexError("The session has no rounds left.")
        return self.rounds[self.current_index]

    def current_commitment(self) -> str:
        return self.commitments[self.current_index]

    def answer(self, choice: str | None, elapsed_s: float) -> RoundResult:
        """Record the player's answer (None when time ran out) to the current round and reveal the AI's."""
        dealt = self.current_round()
        if choice is not None and choice not in dealt.options:
            raise ValueError(f"{choice!r} is not one of this round's options {dealt.options}.")
        limit = self.mode.seconds_per_round
        timed_out = choice is None or (limit is not None and elapsed_s >= limit)
        correct = not timed_out and choice == dealt.truth
        index = self.current_index
        record, commitment = self.records[index], self.commitments[index]
        ai = self.ai_answers[index]
        result = RoundResult(
            number=dealt.number,
            image=dealt.image,
            options=dealt.options,
            truth=dealt.truth,
            player_answer=None if timed_out else choice,
            elapsed_s=round(elapsed_s, 3),
            player_correct=correct,
            points=points(correct, elapsed_s, self.opponent.difficulty),
            ai=ai,
            ai_correct=ai.answer == dealt.truth,
            record=record,
            commitment=commitment,
            verified=verify_round(record, commitment),
        )
        self.results.append(result)
        return result

    # -- totals -----------------------------------------------------------------------------------------------
    @property
    def player_points(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def player_correct(self) -> int:
        return sum(r.player_correct for r in self.results)

    @property
    def ai_correct(self) -> int:
        return sum(r.ai_correct for r in self.results)

    def accuracy(self, who: str) -> float | None:
        if not self.results:
            return None
        return (self.player_correct if who == "player" else self.ai_correct) / len(self.results)

    @property
    def winner(self) -> str:
        """'player', 'ai' or 'draw', by correct answers over the rounds played."""
        if self.player_correct == self.ai_correct:
            return "draw"
        return "player" if self.player_correct > self.ai_correct else "ai"

    def proof(self) -> dict[str, Any]:
        """The exportable proof (DESIGN section 5): every dealt record, its commitment and the session commitment."""
        return {
            "format": PROOF_FORMAT,
            "version": PROOF_VERSION,
            "session": self.session_id,
            "pack_id": self.pack_id,
            "model_id": self.opponent.model_id,
            "mode": self.mode.name,
            "records": [record.to_json_obj() for record in self.records],
            "commitments": list(self.commitments),
            "session_commitment": self.session_commitment,
            "played": [
                {"round": r.number, "player_answer": r.player_answer, "elapsed_s": r.elapsed_s, "truth": r.truth}
                for r in self.results
            ],
        }
