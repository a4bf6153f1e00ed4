"""`eyevsai --self-test`: a headless check that an installed or bundled game works. No Qt, no window.

It loads every bundled model and measures it on bundled test images, plays one scripted round through the same
dealing and session code the window uses, stores it in a throw-away database, verifies the round's commitment,
the session commitment and the proof (re-running the model), and checks that the user data folder is writable.
`make bundle` and the bundle test run it inside the PyInstaller bundle; a player can run it when the game
misbehaves. Exit status 0 means every check passed.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from classifiers import runtime
from classifiers.errors import EyeVsAIError
from classifiers.pack import Pack
from desktop.core.session import GameSession, RoundResult
from desktop.services.catalog import Catalog, OpponentEntry, load_catalog
from desktop.services.dealer import start_session
from desktop.services.opponent import LoadedOpponent, load_opponent
from desktop.services.store import Store
from desktop.verify import check_proof
from game_rules.commitment import new_salt, session_commitment, verify_round
from game_rules.modes import CLASSIC
from game_rules.scoring import points, to_ms

SEED = "self-test"
CHECK_IMAGES = 200  # per model: enough to tell a working model (~85 %) from a broken one (10 % on 10 classes)
ACCURACY_MARGIN = 0.15  # below the card's test accuracy by more than this, the model is considered broken
ANSWER_AFTER_S = 1.0

Writer = Callable[[str], None]


class SelfTestError(EyeVsAIError):
    """A self-test check failed; the message says which and what to do."""


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_self_test(*, assets_dir: Path, data_dir: Path, device: str | None = None, out: Writer = _stdout) -> int:
    """Run every check, writing one line per step to `out`.

    Args:
        assets_dir: the bundled assets (packs/ and models/) to check; the user's own content is left out so the
            result says whether the installation itself works.
        data_dir: the user data folder the game would write to (checked for writability only).
        device: "auto" or "cpu", as for the game.

    Returns:
        0 when every check passed, 1 otherwise (the failing check is the last line written).
    """
    started = time.perf_counter()
    try:
        _describe_install(assets_dir, out)
        _check_data_dir(data_dir, out)
        catalog = _bundled_catalog(assets_dir)
        loaded = _check_models(catalog, device, out)
        pack = catalog.playable_packs()[0]
        _play_one_round(pack, loaded[catalog.opponents_for(pack.id)[-1].card.id], out)
    except EyeVsAIError as exc:
        out(f"self-test FAILED: {exc}")
        return 1
    except Exception as exc:  # a bug: the traceback goes to stderr for the bug report
        traceback.print_exc(file=sys.stderr)
        out(f"self-test FAILED: unexpected {type(exc).__name__}: {exc} (details above; please report this)")
        return 1
    out(f"self-test passed in {time.perf_counter() - started:.1f} s")
    return 0


def _describe_install(assets_dir: Path, out: Writer) -> None:
    import onnxruntime  # lazy: onnxruntime (only the self-test reports its build)

    frozen = "PyInstaller bundle" if getattr(sys, "frozen", False) else f"Python {sys.version.split()[0]}"
    out(f"running from: {frozen} ({sys.executable})")
    out(f"bundled assets: {assets_dir}")
    builds = runtime.installed_builds()
    out(
        f"onnxruntime {onnxruntime.__version__} ({', '.join(builds) or 'build unknown'}); "
        f"providers: {', '.join(onnxruntime.get_available_providers())}"
    )
    problem = runtime.install_problem(builds)
    if problem:
        out(f"warning: {problem}")


def _check_data_dir(data_dir: Path, out: Writer) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".self-test-"):
            pass
    except OSError as exc:
        raise SelfTestError(
            f"The user data folder {data_dir} is not writable ({exc}). Fix its permissions or "
            "choose another with --data-dir or EYEVSAI_DATA_DIR."
        ) from exc
    out(f"user data folder: {data_dir} (writable)")


def _bundled_catalog(assets_dir: Path) -> Catalog:
    catalog = load_catalog([assets_dir])
    if catalog.problems:
        raise SelfTestError("The bundled content is damaged: " + " | ".join(catalog.problems) + " Reinstall the game.")
    if not catalog.playable_packs():
        raise SelfTestError(
            f"No playable pack with models under {assets_dir} (packs: {sorted(catalog.packs)}). "
            "The installation is incomplete: reinstall the game."
        )
    return catalog


def _check_models(catalog: Catalog, device: str | None, out: Writer) -> dict[str, LoadedOpponent]:
    """Load every bundled model and check its accuracy on the first CHECK_IMAGES test images of its pack."""
    loaded = {}
    for pack in catalog.playable_packs():
        for entry in catalog.opponents_for(pack.id):
            loaded[entry.card.id] = opponent = load_opponent(entry, device=device)
            accuracy, n = _accuracy(pack, opponent)
            classifier = opponent.classifier
            out(
                f"model {entry.card.id} ({entry.difficulty}): {classifier.provider}, loaded in "
                f"{opponent.load_seconds * 1000:.0f} ms, {accuracy:.1%} on {n} test images "
                f"(card: {entry.card.test_accuracy:.1%})"
            )
            if classifier.fallback_reason:
                out(f"notice: GPU not used: {classifier.fallback_reason}")
            _check_accuracy(entry, accuracy, n)
    return loaded


def _accuracy(pack: Pack, opponent: LoadedOpponent) -> tuple[float, int]:
    entries = pack.available("test")[:CHECK_IMAGES]
    probabilities = opponent.probabilities(pack, [e.sha256 for e in entries])
    rows = np.array([list(probabilities[e.sha256].values()) for e in entries], dtype=np.float64)
    if not np.all(np.isfinite(rows)) or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-3):
        raise SelfTestError(
            f"Model '{opponent.entry.card.id}' returned values that are not probabilities. "
            "Its ONNX file or onnxruntime is broken: reinstall the game."
        )
    classes = opponent.classifier.card.classes
    hits = sum(classes[int(row.argmax())] == e.label for row, e in zip(rows, entries, strict=True))
    return hits / len(entries), len(entries)


def _check_accuracy(entry: OpponentEntry, accuracy: float, n: int) -> None:
    expected = entry.card.test_accuracy
    if expected is not None and accuracy < expected - ACCURACY_MARGIN:
        raise SelfTestError(
            f"Model '{entry.card.id}' is right on {accuracy:.1%} of {n} test images, far below "
            f"its card's {expected:.1%}: its preprocessing or runtime is broken in this "
            "installation. Reinstall the game."
        )


def _play_one_round(pack: Pack, opponent: LoadedOpponent, out: Writer) -> None:
    """Deal a classic session, answer its first round correctly after 1 s, store it and verify everything."""
    session = start_session(pack, opponent, CLASSIC, seed=SEED, session_id=str(uuid.uuid4()), new_salt=new_salt)
    dealt = session.current_round()
    commitment = session.current_commitment()
    out(f"session commitment: {session.session_commitment}")
    out(
        f"round {dealt.number}: image {dealt.image[:12]}…, options {list(dealt.options)}, "
        f"commitment {commitment[:16]}… shown before answering"
    )
    with tempfile.TemporaryDirectory(prefix="eyevsai-self-test-") as tmp:
        store = Store(Path(tmp) / "self-test.db")
        try:
            store.begin_session(session, store.profile_id("self-test"), opponent.entry.difficulty)
            result = session.answer(dealt.truth, ANSWER_AFTER_S)
            store.save_round(session.session_id, result)
            stored = store.rounds(session.session_id)
        finally:
            store.close()
    _check_round(session, result, opponent.entry.difficulty)
    if len(stored) != 1 or stored[0]["commitment"] != result.commitment:
        raise SelfTestError("The played round did not come back from the game database unchanged.")
    _check_proof(session, pack, opponent)
    out(
        f"round {dealt.number}: player '{result.player_answer}' ({result.points} points), AI "
        f"'{result.ai.answer}' ({result.ai.confidence}‰), truth '{result.truth}'; commitment verified"
    )


def _check_round(session: GameSession, result: RoundResult, difficulty: str) -> None:
    if not (result.verified and verify_round(result.record, result.commitment)):
        raise SelfTestError(
            f"Round {result.number}'s revealed record does not hash to its commitment "
            f"{result.commitment}: the commitment code is broken in this installation."
        )
    if session_commitment(session.commitments) != session.session_commitment:
        raise SelfTestError("The session commitment does not match the round commitments.")
    expected = points(is_correct=True, elapsed_ms=to_ms(ANSWER_AFTER_S), difficulty=difficulty)
    if not result.player_correct or result.points != expected:
        raise SelfTestError(
            f"A correct answer after {ANSWER_AFTER_S:.0f} s scored {result.points} points, "
            f"expected {expected}: the scoring rules are broken in this installation."
        )


def _check_proof(session: GameSession, pack: Pack, opponent: LoadedOpponent) -> None:
    def rerun(records):
        return opponent.probabilities(pack, sorted({r.image for r in records}))

    session_ok, checks = check_proof(session.proof(), rerun)
    bad = [c.note for c in checks if not (c.hash_ok and c.rerun_ok)]
    if not session_ok or bad:
        raise SelfTestError(f"The session's proof does not verify: {bad[:1] or ['session commitment mismatch']}.")
