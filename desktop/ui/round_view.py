"""The round screen: the image, the AI's padlocked answer, the options (buttons and keys 1–N), the countdown, the
you-vs-AI strip and the reveal (both picks marked, a pop-up, a sound, where the AI looked)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.play import Score, ShownRound
from desktop.core.session import RoundResult
from desktop.ui.picture import SHARP, SMOOTH, PictureView
from desktop.ui.reveal import lock_details, mark_buttons, popup_for, reveal_sentence
from desktop.ui.round_widgets import Padlock, PointsPopup, ResultStrip, TimerBar
from desktop.ui.sounds import Sounds

TICK_FROM_S = 3.0  # a tick each second from here down


def short_hash(value: str) -> str:
    return f"{value[:10]}…{value[-6:]}"


class RoundView(QWidget):
    """Signals:
    answered(object): the player chose an option (its label).
    next_requested(): the player wants the next round after the reveal.
    quit_requested(): the player leaves the session (the window asks first).
    heatmap_requested(object): the RoundResult whose "where the AI looked" overlay the player wants.
    scaling_changed(str): SHARP or SMOOTH was chosen for the image.
    muted_changed(bool): the sound switch was flipped.
    """

    answered = Signal(object)
    next_requested = Signal()
    quit_requested = Signal()
    heatmap_requested = Signal(object)
    scaling_changed = Signal(str)
    muted_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.score = QLabel()
        self.score.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.timer = TimerBar()
        self.strip = ResultStrip()
        self.image = PictureView()
        self.popup = PointsPopup(self.image)
        self.padlock = Padlock()
        self.session_line = QLabel()
        self.session_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commitment = QLabel()  # the round's hash, in the padlock's details
        self.commitment.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reveal = QLabel(" ")
        self.reveal.setWordWrap(True)
        self.reveal.setTextFormat(Qt.TextFormat.RichText)
        self.reveal.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reveal.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Two lines of room from the start: the image does not jump when the reveal appears.
        self.reveal.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 8)
        self.next = QPushButton("Next round  ⏎")
        self.next.clicked.connect(self.next_requested)
        self.leave = QPushButton("Quit session (Esc)")
        self.leave.clicked.connect(self.quit_requested)
        self.options_box = QGridLayout()
        self.buttons: list[QPushButton] = []
        self._full_commitment = ""
        self.sounds: Sounds | None = None
        self.result: RoundResult | None = None
        self._heat: QImage | None = None
        self._last_whole_second = -1
        self._dealt: int | None = None
        self._build_image_tools()
        self._build_layout()

    def _build_image_tools(self) -> None:
        self.scaling = QPushButton("Smooth image (S)")
        self.scaling.setCheckable(True)
        self.scaling.setToolTip("Draw the picture with smooth scaling instead of sharp square pixels")
        self.scaling.toggled.connect(self._on_scaling_toggled)
        self.looked = QPushButton("Where the AI looked (H)")
        self.looked.setCheckable(True)
        self.looked.setEnabled(False)
        self.looked.setVisible(False)  # shown by set_heatmap_available where the model runs here
        self.looked.setToolTip("After the reveal: colour the parts of the picture that swayed the AI's answer most")
        self.looked.toggled.connect(self._on_looked_toggled)
        self.mute = QPushButton("Sound on (M)")
        self.mute.setCheckable(True)
        self.mute.setVisible(False)  # shown by set_sounds where Qt Multimedia is present
        self.mute.toggled.connect(self._on_mute_toggled)
        # What other players did on this image (online, enough players): in the tools row, which is always there,
        # so the picture does not jump when the line arrives from the server.
        self.crowd = QLabel()
        self.crowd.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.crowd.setStyleSheet("color: #37474f; font-weight: bold;")
        for button in (self.scaling, self.looked, self.mute, self.leave, self.next):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click does not steal the keys 1–N

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addStretch(1)
        top.addWidget(self.score)
        tools = QHBoxLayout()
        tools.addWidget(self.scaling)
        tools.addStretch(1)
        tools.addWidget(self.crowd)
        tools.addStretch(1)
        tools.addWidget(self.looked)
        bottom = QHBoxLayout()
        bottom.addWidget(self.leave)
        bottom.addWidget(self.mute)
        bottom.addStretch(1)
        bottom.addWidget(self.next)
        self.padlock.add_detail(self.commitment)
        self.padlock.add_detail(self.session_line)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.timer)
        layout.addWidget(self.strip)
        layout.addWidget(self.image, 1)
        layout.addLayout(tools)
        layout.addWidget(self.padlock)
        layout.addLayout(self.options_box)
        layout.addWidget(self.reveal)
        layout.addLayout(bottom)
        self.next.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.next.setMinimumHeight(36)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Keys 1–N answer; Enter goes on after the reveal; Esc asks to quit; H, S, M, D flip the toggles."""
        key = event.key()
        toggles = {Qt.Key.Key_H: self.looked, Qt.Key.Key_S: self.scaling, Qt.Key.Key_M: self.mute}
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self._press(key - Qt.Key.Key_1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._next_if_revealed()
        elif key == Qt.Key.Key_Escape:
            self.quit_requested.emit()
        elif key in toggles:
            if toggles[key].isEnabled() and not toggles[key].isHidden():
                toggles[key].toggle()
        elif key == Qt.Key.Key_D:
            self.padlock.toggle.toggle()
        else:
            super().keyPressEvent(event)

    def show_session_commitment(self, commitment: str, n_rounds: int | None) -> None:
        """Shown from the first round on: the hash that binds the AI's answers to every dealt round. `n_rounds`
        None (blitz): the dealt count is not shown, as it is not the count of rounds the player will play."""
        count = "" if n_rounds is None else f" ({n_rounds} dealt rounds)"
        self.session_line.setText(f"<small>Session commitment{count}: <code>{short_hash(commitment)}</code></small>")
        self.session_line.setToolTip(f"SHA-256 of every dealt round's commitment:\n{commitment}")
        self._dealt = n_rounds

    def show_seed_commitment(self, commitment: str) -> None:
        """Ranked: the hash of the server's secret seed, revealed (and checked) at the end."""
        self.session_line.setText(
            f"<small>Ranked · server seed commitment <code>{short_hash(commitment)}</code></small>"
        )
        self.session_line.setToolTip(f"SHA-256 of the server's secret seed, revealed at the end:\n{commitment}")
        self._dealt = None

    # -- the player's settings --------------------------------------------------------------------------------
    def set_sounds(self, sounds: Sounds) -> None:
        """Play cues through `sounds`; the mute switch shows only where sounds can play."""
        self.sounds = sounds
        self.mute.setVisible(sounds.available)
        self.mute.setChecked(sounds.muted)
        self._label_mute(sounds.muted)

    def set_scaling(self, scaling: str) -> None:
        self.scaling.setChecked(scaling == SMOOTH)
        self.image.set_scaling(scaling)

    def _on_scaling_toggled(self, smooth: bool) -> None:
        scaling = SMOOTH if smooth else SHARP
        self.image.set_scaling(scaling)
        self.scaling.setText("Sharp pixels (S)" if smooth else "Smooth image (S)")
        self.scaling_changed.emit(scaling)

    def _on_mute_toggled(self, muted: bool) -> None:
        if self.sounds is not None:
            self.sounds.muted = muted
        self._label_mute(muted)
        self.muted_changed.emit(muted)

    def _label_mute(self, muted: bool) -> None:
        self.mute.setText("Sound off (M)" if muted else "Sound on (M)")

    def _play(self, cue: str) -> None:
        if self.sounds is not None:
            self.sounds.play(cue)

    # -- showing a round --------------------------------------------------------------------------------------
    def show_round(self, shown: ShownRound) -> bool:
        """Show the image and the AI's commitment with the options locked; returns False if the image is broken."""
        commitment = shown.commitment
        if shown.number == 1:
            self.strip.reset(self._dealt if shown.seconds is not None else None)
        self.header.setText(f"<b>{shown.title}</b>")
        ok = self.image.set_image_bytes(shown.image_bytes)
        self._full_commitment = commitment
        self.padlock.show_locked(commitment)
        self.padlock.set_details("")
        self.commitment.setText(f"<small>This round's lock: <code>{short_hash(commitment)}</code></small>")
        self.commitment.setToolTip(f"SHA-256 commitment of the AI's answer:\n{commitment}")
        self.reveal.setText(" ")
        self.crowd.setText("")
        self.next.setEnabled(False)
        self.next.setText("Next round  ⏎")
        self.result, self._heat = None, None
        self.looked.setChecked(False)
        self.looked.setEnabled(False)
        self._build_buttons(shown.options)
        self.set_options_enabled(False)
        return ok

    def _build_buttons(self, options: tuple[str, ...]) -> None:
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        columns = 2 if len(options) > 2 else len(options)
        for i, label in enumerate(options):
            button = QPushButton(f"{i + 1}.  {label.capitalize()}")
            button.setMinimumHeight(48)
            button.clicked.connect(lambda _=False, value=label: self.answered.emit(value))
            self.options_box.addWidget(button, i // columns, i % columns)
            self.buttons.append(button)

    def show_note(self, text: str) -> None:
        """A line where the reveal goes (why a round shows no image)."""
        self.reveal.setText(text)

    def set_next_enabled(self, enabled: bool) -> None:
        self.next.setEnabled(enabled)

    def set_options_enabled(self, enabled: bool) -> None:
        for button in self.buttons:
            button.setEnabled(enabled)
        if enabled and self.buttons:
            self.buttons[0].setFocus()

    def _press(self, index: int) -> None:
        if 0 <= index < len(self.buttons) and self.buttons[index].isEnabled():
            self.buttons[index].click()

    def _next_if_revealed(self) -> None:
        if self.next.isEnabled():
            self.next.click()

    def show_clock(self, remaining_s: float, total_s: float) -> None:
        self.timer.show_time(remaining_s, total_s)
        whole = int(remaining_s + 0.999)
        if 0 < whole <= TICK_FROM_S and whole != self._last_whole_second and self.result is None:
            self._play("tick")
        self._last_whole_second = whole

    def show_score(self, score: Score) -> None:
        played = score.played
        you = f"You: <b>{score.points}</b> pts, {score.player_correct}/{played} right"
        self.score.setText(f"{you} · AI: {score.ai_correct}/{played} right")

    def show_reveal(self, result: RoundResult, *, last: bool) -> None:
        """Mark both picks on the buttons, say what happened, open the padlock, pop the points, play a cue."""
        self.set_options_enabled(False)
        self.result = result
        mark_buttons(self.buttons, result)
        self.reveal.setText(reveal_sentence(result))
        self.padlock.show_opened(result.verified)
        self.padlock.set_details(lock_details(result))
        self.strip.add(result.player_correct, result.ai_correct)
        self.popup.pop(*popup_for(result))
        self._play("right" if result.player_correct else "wrong")
        self.looked.setEnabled(not self.looked.isHidden())
        self.next.setText("See results  ⏎" if last else "Next round  ⏎")
        self.next.setEnabled(True)
        self.next.setFocus()

    def show_crowd(self, result: RoundResult, line: str) -> None:
        """What other players did on this image ("62 % of players got this right"); ignored when the player has
        moved on to another round."""
        if result is self.result:
            self.crowd.setText(line)

    # -- where the AI looked ----------------------------------------------------------------------------------
    def set_heatmap_available(self, available: bool, why_not: str = "") -> None:
        """Without a heatmap service the toggle is hidden (ranked: the model runs on the server)."""
        self.looked.setVisible(available)
        self.looked.setToolTip(self.looked.toolTip() if available else why_not)

    def _on_looked_toggled(self, on: bool) -> None:
        if not on:
            self.image.set_overlay(None)
        elif self._heat is not None:
            self.image.set_overlay(self._heat)
        elif self.result is not None:
            self.looked.setText("Looking…  (H)")
            self.heatmap_requested.emit(self.result)

    def show_heatmap(self, result: RoundResult, overlay: QImage) -> None:
        """The overlay computed for `result`; ignored when the player has moved on to another round."""
        if result is not self.result:
            return
        self._heat = overlay
        self.looked.setText("Where the AI looked (H)")
        if self.looked.isChecked():
            self.image.set_overlay(overlay)
