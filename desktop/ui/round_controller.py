"""The one round loop of the window: a QObject that owns the round clock and the state machine (desktop.core.play)
and tells the views what happened through signals. Classic, blitz and ranked all drive it; they differ only in
the RoundSource and in how its calls run (at once offline, in the background for the server)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from classifiers.errors import EyeVsAIError
from classifiers.pack import Pack
from desktop.core.play import Clock, Phase, RoundPlay, RoundSource, ShownRound, Step
from desktop.core.session import RoundResult
from desktop.ui.round_view import RoundView

TICK_MS = 100

# run(fn, done, failed): call fn, then done(result) or failed(exc, traceback), possibly later on the GUI thread.
Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[Exception, str], None]], None]


def run_now(fn: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception, str], None]) -> None:
    """The offline runner: the local source answers at once. An exception is not caught here: it leaves the Qt
    slot and reaches the error reporter through the excepthook (a bug, shown in the crash dialog)."""
    done(fn())


class RoundController(QObject):
    """Plays one session at a time from a RoundSource.

    Signals:
        round_shown(object): a ShownRound is on screen, its options still locked.
        options_unlocked(): the round (and its commitment) has been painted; answers are accepted now.
        time_ticked(float, float): seconds left and the limit of the clock that runs.
        round_answered(): the answer (or the time-out) went to the source; its reveal follows.
        round_revealed(object, bool): the RoundResult, and whether that was the last round.
        round_requested(): the next round was asked for (the server may take a moment).
        score_changed(object): the running Score after a round was shown or revealed.
        session_finished(): the last round was passed, or the session's clock ran out.
        failed(object, str): a source call run in the background raised: the exception and its traceback.
    """

    round_shown = Signal(object)
    options_unlocked = Signal()
    time_ticked = Signal(float, float)
    round_answered = Signal()
    round_revealed = Signal(object, bool)
    round_requested = Signal()
    score_changed = Signal(object)
    session_finished = Signal()
    failed = Signal(object, str)

    def __init__(
        self, parent: QObject | None = None, *, clock: Clock = time.monotonic, runner: Runner = run_now
    ) -> None:
        super().__init__(parent)
        self.clock = clock
        self.runner = runner
        self.play: RoundPlay | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)

    @property
    def is_playing(self) -> bool:
        return self.play is not None and self.play.phase is not Phase.FINISHED

    def start(self, source: RoundSource) -> None:
        """Play a new session from `source` (the session clock starts now), beginning with its first round."""
        self.play = RoundPlay(source, clock=self.clock)
        self._timer.start()
        self._deal(self.play)

    def stop(self) -> None:
        """Leave the session without a signal; results still on their way are dropped."""
        self._timer.stop()
        self.play = None

    # -- slots for the view ------------------------------------------------------------------------------------------
    def answer(self, choice: str | None) -> None:
        """The player's answer (None: the time ran out); ignored unless a round waits for one."""
        play = self.play
        elapsed = play.answer(choice) if play is not None else None
        if play is None or elapsed is None:
            return
        self.round_answered.emit()
        source = play.source
        self.runner(lambda: source.answer(choice, elapsed), lambda result: self._on_revealed(play, result), self._fail)

    def next(self) -> None:
        """After the reveal: the next round, or the end of the session after the last."""
        play = self.play
        step = play.advance() if play is not None else Step.NONE
        if step is Step.DEAL:
            self.round_requested.emit()
            self._deal(play)
        elif step is Step.FINISH:
            self._finish()

    # -- the loop ----------------------------------------------------------------------------------------------------
    def _deal(self, play: RoundPlay) -> None:
        self.runner(play.source.deal, lambda shown: self._on_dealt(play, shown), self._fail)

    def _on_dealt(self, play: RoundPlay, shown: ShownRound) -> None:
        if play is not self.play:
            return  # the player left while the server dealt
        play.show(shown)
        self.round_shown.emit(shown)
        self.score_changed.emit(play.score)
        # Unlock after the commitment has been painted, so it is visible before any answer is possible.
        QTimer.singleShot(0, lambda: self._unlock(play, shown))
        self._on_tick()

    def _unlock(self, play: RoundPlay, shown: ShownRound) -> None:
        if play is self.play and play.phase is Phase.SHOWN and play.current is shown:
            self.options_unlocked.emit()

    def _on_tick(self) -> None:
        play = self.play
        tick = play.tick() if play is not None else None
        if tick is None:
            return
        self.time_ticked.emit(tick.remaining_s, tick.limit_s)
        if tick.expired and play.phase is Phase.SHOWN:
            # The round running when time ends counts, as a time-out; in blitz its reveal then ends the session.
            self.answer(None)

    def _on_revealed(self, play: RoundPlay, result: RoundResult) -> None:
        if play is not self.play or play.phase is not Phase.ANSWERED:
            return
        play.reveal(result)
        last = play.is_last
        self.round_revealed.emit(result, last)
        self.score_changed.emit(play.score)
        pause = play.reveal_seconds()
        if pause is not None:
            QTimer.singleShot(round(pause * 1000), lambda: self._advance_if_still_revealed(play, result))

    def _advance_if_still_revealed(self, play: RoundPlay, result: RoundResult) -> None:
        if play is self.play and play.phase is Phase.REVEALED and play.last_result is result:
            self.next()

    def _finish(self) -> None:
        self._timer.stop()
        self.session_finished.emit()

    def _fail(self, exc: Exception, details: str) -> None:
        self.stop()
        self.failed.emit(exc, details)


def pack_image_reader(pack: Pack) -> Callable[[str], bytes]:
    """The image bytes of a pack by sha256; empty (the view says why) when the pack cannot give them."""

    def read(image: str) -> bytes:
        try:
            return pack.read_bytes(image)
        except EyeVsAIError:
            return b""

    return read


def show_rounds_on(view: RoundView, rounds: RoundController, unreadable_note: str) -> None:
    """Let `view` follow `rounds` and send the player's input to it; `unreadable_note` tells the player what to do
    when an image cannot be shown (the round still counts)."""

    # These slots hold the view only, never the window: a closed window can still be freed.
    def on_shown(shown: ShownRound) -> None:
        if not view.show_round(shown):
            view.show_note(unreadable_note)

    rounds.round_shown.connect(on_shown)
    rounds.options_unlocked.connect(lambda: view.set_options_enabled(True))
    rounds.time_ticked.connect(view.show_clock)
    rounds.round_answered.connect(lambda: view.set_options_enabled(False))
    rounds.round_requested.connect(lambda: view.set_next_enabled(False))
    rounds.round_revealed.connect(lambda result, last: view.show_reveal(result, last=last))
    rounds.score_changed.connect(view.show_score)
    view.answered.connect(rounds.answer)
    view.next_requested.connect(rounds.next)
