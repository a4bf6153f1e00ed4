"""A game session: dealt rounds, the AI's committed answers, the player's answers and the score. Pure: no Qt, no I/O.

The AI's answers for every dealt round are computed and committed when the session is built, so the session
commitment shown at start binds all of them; each round's record (with its salt) is revealed after the player
answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from game_rules.answer_rules import rule_for_difficulty
from game_rules.commitment import RoundRecord, session_commitment, verify_round
from game_rules.deal import AiAnswer, DealtRound, ai_answer
from game_rules.modes import Mode
from game_rules.proof import PlayedAnswer, Proof
from game_rules.scoring import is_timed_out, points, to_ms


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
    elapsed_ms: int
    player_correct: bool
    points: int
    ai: AiAnswer
    ai_correct: bool
    record: RoundRecord
    commitment: str
    verified: bool

    @property
    def elapsed_s(self) -> float:
        return self.elapsed_ms / 1000


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

        The opponent's difficulty sets the AI's answer rule (game_rules.answer_rules), which every record names.

        Args:
            probabilities: image sha256 -> {label: probability} from the opponent's model, on the rule's view of
                each image (`rule_for_difficulty(opponent.difficulty).view_px`).
            new_salt: source of 64-hex-char salts (a CSPRNG in the app, fixed in tests).
        """
        rule = rule_for_difficulty(opponent.difficulty)
        answers, records = [], []
        for dealt in rounds:
            answer = ai_answer(probabilities[dealt.image], dealt.options, rule)
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
                    rule=rule.name,
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

    @property
    def answer_time_ms(self) -> int:
        """The answer time used so far, summed over the rounds played (what a blitz session's total limits)."""
        return sum(r.elapsed_ms for r in self.results)

    def answer(self, choice: str | None, elapsed_s: float) -> RoundResult:
        """Record the player's answer (None when time ran out) to the current round and reveal the AI's.

        Args:
            elapsed_s: the time from showing the round to the answer on the game's clock; it is rounded to whole
                milliseconds (`game_rules.scoring.to_ms`) before it is scored or stored, as the server scores it.
        """
        dealt = self.current_round()
        if choice is not None and choice not in dealt.options:
            raise ValueError(f"{choice!r} is not one of this round's options {dealt.options}.")
        elapsed_ms = to_ms(elapsed_s)
        timed_out = choice is None or is_timed_out(elapsed_ms, self.mode.limit_ms(self.answer_time_ms))
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
            elapsed_ms=elapsed_ms,
            player_correct=correct,
            points=points(is_correct=correct, elapsed_ms=elapsed_ms, difficulty=self.opponent.difficulty),
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

    def proof(self) -> Proof:
        """The exportable proof (docs/design.md §5): every dealt record, its commitment and the session commitment."""
        return Proof(
            session=self.session_id,
            pack_id=self.pack_id,
            model_id=self.opponent.model_id,
            mode=self.mode.name,
            records=tuple(self.records),
            commitments=tuple(self.commitments),
            session_commitment=self.session_commitment,
            played=tuple(PlayedAnswer(r.number, r.player_answer, r.elapsed_ms, r.truth) for r in self.results),
        )
