"""Ranked play against the server's round protocol, checked by the game at every step (docs/design.md §5 and §6).

The server commits to its seed's hash; only then does the game send its own random seed. Each round the server
serves a per-session variant of a ranked image with the AI's commitment, times the answer itself and reveals the
AI's record (not the truth: truths come when the session ends). The game checks each reveal against the
commitment it was shown. At the end it checks the revealed seed against its hash, re-deals every round (image,
options and the served variant's pixels), and checks the server's Ed25519 signature on the session's record
against the key pinned for this server (trust on first use).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from classifiers.attestation import verify_attestation
from classifiers.variants import same_variant
from desktop.core.session import Opponent, RoundResult
from desktop.services.online.client import ServerClient
from desktop.services.online.errors import OnlineError, ServerRefused
from game_rules.attestation import record_problems
from game_rules.commitment import RoundRecord, verify_round, verify_session
from game_rules.deal import AiAnswer, DealtRound
from game_rules.ranked_deal import check_deal
from game_rules.variants import VariantParams

UNREVEALED = "?"  # a round's truth before the session ends (the server shows truths only then)


class RankedProtocolError(OnlineError):
    """The server's answer does not fit the ranked protocol (a reveal that cannot be read)."""


@dataclass(frozen=True)
class RankedRound:
    """A dealt round as shown: the served image, the options and the AI's commitment (no truth)."""

    number: int
    image: str  # sha256 of the served bytes
    options: tuple[str, ...]
    commitment: str
    seconds: float
    image_bytes: bytes = field(default=b"", repr=False)


@dataclass
class RankedSummary:
    """The ended session as the server scored it, what the game could verify, and the signed record to keep."""

    score: int
    correct: int
    ai_correct: int
    rounds: int
    total_time_ms: int
    status: str = "finished"
    problems: list[str] = field(default_factory=list)
    images_checked: bool = False
    record: dict[str, Any] | None = None
    signature: str = ""
    server_key: dict[str, str] | None = None  # the key that signed it; pin it when the server had none pinned

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
    """One ranked session; every method but `summary` blocks on the network (run it in a worker)."""

    def __init__(
        self,
        client: ServerClient,
        started: dict[str, Any],
        *,
        client_seed: str,
        classes: Sequence[str],
        ranked_images: Sequence[str] | None,
        read_image: Callable[[str], bytes] | None = None,
    ) -> None:
        """read_image(sha256) gives a pack image's bytes, to re-render the served variants at the end."""
        self.client = client
        self.id = str(started["id"])
        self.pack_id = str(started["pack_id"])
        self.difficulty = str(started["difficulty"])
        self.opponent = _opponent(started["opponent"])
        self.rounds_total = int(started["rounds_total"])
        self.seconds_per_round = float(started["seconds_per_round"])
        self.client_seed = client_seed
        self.seed_commitment = str(started["server_seed_hash"])  # shown before the game sent its seed
        self.classes = list(classes)
        self.ranked_images = list(ranked_images) if ranked_images is not None else None
        self.read_image = read_image
        self.problems: list[str] = []
        self.results: list[RoundResult] = []
        self.served: dict[int, bytes] = {}
        self.current: RankedRound | None = None
        self.finished: dict[str, Any] | None = None
        self.attestation: dict[str, Any] | None = None
        self.server_key: dict[str, str] | None = None

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
        read_image: Callable[[str], bytes] | None = None,
        new_seed: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> RankedGame:
        """Start a session: the server shows its seed's hash first, then the game sends its own random seed."""
        started = client.ranked_start(pack_id=pack_id, difficulty=difficulty, model_id=model_id)
        seed = new_seed()
        seeded = client.ranked_seed(str(started["id"]), seed)
        game = cls(
            client, started, client_seed=seed, classes=classes, ranked_images=ranked_images, read_image=read_image
        )
        if seeded.get("client_seed") != seed or seeded.get("server_seed_hash") != game.seed_commitment:
            game.problems.append("the server did not keep the game's seed or changed its seed hash")
        return game

    @property
    def has_next_round(self) -> bool:
        return self.finished is None and len(self.results) < self.rounds_total

    def next_round(self) -> RankedRound:
        """Deal the next round (the server's clock starts now); asking again repeats an unanswered round."""
        dealt = self.client.ranked_next(self.id)
        try:
            image = base64.b64decode(str(dealt["image"]), validate=True)
        except ValueError:
            image = b""
        sha = str(dealt["image_sha256"]).lower()
        if hashlib.sha256(image).hexdigest() != sha:
            self.problems.append(f"round {dealt['number']}: the served image does not hash to its announced sha256")
        self.current = RankedRound(
            int(dealt["number"]),
            sha,
            tuple(dealt["options"]),
            str(dealt["commitment"]).lower(),
            float(dealt["seconds"]),
            image,
        )
        self.served[self.current.number] = image
        return self.current

    def answer(self, choice: str | None) -> RoundResult:
        """Send the answer (None: time ran out) and check the revealed AI record against the shown commitment.
        After the last round, fetch the signed record and the server's public key."""
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
        correct = bool(reveal["is_correct"])
        truth = str(reveal.get("answer")) if correct else UNREVEALED  # a right answer is the truth; else: the end
        result = RoundResult(
            number=shown.number,
            image=shown.image,
            options=shown.options,
            truth=truth,
            player_answer=reveal.get("answer"),
            elapsed_ms=int(reveal["elapsed_ms"]),
            player_correct=correct,
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
        if session.get("finished_at"):
            self.finished = session
            self.attestation = self.client.ranked_attestation(self.id)
            self.server_key = self.client.ranked_public_key()
        return result

    def _with_truths(self, truths: Sequence[str]) -> None:
        if len(truths) != len(self.results):
            self.problems.append("the server revealed another number of truths than rounds were played")
            return
        self.results = [
            replace(r, truth=t, ai_correct=r.ai.answer == t, player_correct=r.player_answer == t)
            for r, t in zip(self.results, truths, strict=True)
        ]

    def _variant_matches(self, played: DealtRound, source: str, params: VariantParams) -> bool:
        if self.read_image is None:
            return True
        data = self.read_image(source)
        return bool(data) and same_variant(self.served.get(played.number, b""), data, params)

    def summary(self, pinned_key: dict[str, str] | None = None) -> RankedSummary:
        """The server's totals and every check of the ended session (call when has_next_round is False).

        pinned_key: the key pinned for this server ({key_id, public_key}); None when the game has not seen one yet.
        """
        session = self.finished or {}
        problems = list(self.problems)
        self._with_truths([str(t) for t in session.get("truths") or []])
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
                variant_matches=self._variant_matches,
            )
        if not verify_session([r.commitment for r in self.results], str(session.get("session_commitment") or "")):
            problems.append("the session commitment does not match the round commitments shown")
        if sum(r.points for r in self.results) != session.get("score"):
            problems.append("the session score is not the sum of the round points")
        problems += self._attestation_problems(pinned_key)
        attested = self.attestation or {}
        return RankedSummary(
            score=int(session.get("score", 0)),
            correct=int(session.get("correct", 0)),
            ai_correct=int(session.get("ai_correct", 0)),
            rounds=len(self.results),
            total_time_ms=int(session.get("total_time_ms", 0)),
            status=str(session.get("status", "finished")),
            problems=problems,
            images_checked=self.ranked_images is not None and self.read_image is not None,
            record=attested.get("record"),
            signature=str(attested.get("signature", "")),
            server_key=self.server_key,
        )

    def _attestation_problems(self, pinned_key: dict[str, str] | None) -> list[str]:
        record, key = (self.attestation or {}).get("record"), self.server_key or {}
        if not isinstance(record, dict) or not key.get("public_key"):
            return ["the server sent no signed record of the session"]
        if pinned_key and pinned_key.get("public_key") != key.get("public_key"):
            return [
                f"the server's signing key changed (key {key.get('key_id')}, pinned {pinned_key.get('key_id')}): "
                "its records can no longer be trusted; ask the server's operator"
            ]
        problems = [f"signed record: {p}" for p in record_problems(record)]
        if not verify_attestation(record, str((self.attestation or {}).get("signature", "")), key["public_key"]):
            problems.append("the signature of the session's record is not the server's")
        seen = (self.id, self.client_seed, self.seed_commitment, [(r.image, r.commitment) for r in self.results])
        signed_rounds = [(r.get("image"), r.get("commitment")) for r in record.get("rounds", []) if isinstance(r, dict)]
        if (record.get("session"), record.get("client_seed"), record.get("server_seed_hash"), signed_rounds) != seen:
            problems.append("the signed record describes another session than the one played")
        return problems
