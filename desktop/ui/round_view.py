"""The round screen: the image, the AI's commitment, the options (buttons and keys 1–N), countdown and reveal."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.play import Score, ShownRound
from desktop.core.session import RoundResult


def short_hash(value: str) -> str:
    return f"{value[:10]}…{value[-6:]}"


class ImageView(QLabel):
    """Shows an image as large as the space allows; small images are scaled by whole factors without blurring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(224, 224)
        self._source: QPixmap | None = None

    def set_image_bytes(self, data: bytes) -> bool:
        image = QImage.fromData(data)
        if image.isNull():
            self._source = None
            self.setText("This image could not be shown.")
            return False
        self._source = QPixmap.fromImage(image)
        self._rescale()
        return True

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._source is None:
            return
        ratio = self.devicePixelRatioF()
        avail_w, avail_h = self.width() * ratio, self.height() * ratio
        src_w, src_h = self._source.width(), self._source.height()
        factor = min(avail_w / src_w, avail_h / src_h)
        if factor >= 2:  # pixel art-like upscaling keeps edges sharp
            whole = int(factor)
            scaled = self._source.scaled(
                src_w * whole,
                src_h * whole,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        else:
            scaled = self._source.scaled(
                int(avail_w),
                int(avail_h),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        scaled.setDevicePixelRatio(ratio)
        self.setPixmap(scaled)


class RoundView(QWidget):
    """Signals:
    answered(object): the player chose an option (its label).
    next_requested(): the player wants the next round after the reveal.
    quit_requested(): the player leaves the session.
    """

    answered = Signal(object)
    next_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.score = QLabel()
        self.score.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.clock = QProgressBar()
        self.clock.setTextVisible(True)
        self.image = ImageView()
        self.session_line = QLabel()
        self.session_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commitment = QLabel()
        self.commitment.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commitment.setWordWrap(True)
        self.copy = QPushButton("Copy hash")
        self.copy.clicked.connect(self._copy_commitment)
        self.reveal = QLabel()
        self.reveal.setWordWrap(True)
        self.reveal.setTextFormat(Qt.TextFormat.RichText)
        self.reveal.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.next = QPushButton("Next round  ⏎")
        self.next.clicked.connect(self.next_requested)
        self.leave = QPushButton("Quit session")
        self.leave.clicked.connect(self.quit_requested)
        self.options_box = QGridLayout()
        self.buttons: list[QPushButton] = []
        self._full_commitment = ""

        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addStretch(1)
        top.addWidget(self.score)
        commit_row = QHBoxLayout()
        commit_row.addWidget(self.commitment, 1)
        commit_row.addWidget(self.copy)
        bottom = QHBoxLayout()
        bottom.addWidget(self.leave)
        bottom.addStretch(1)
        bottom.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.clock)
        layout.addWidget(self.session_line)
        layout.addWidget(self.image, 1)
        layout.addLayout(commit_row)
        layout.addLayout(self.options_box)
        layout.addWidget(self.reveal)
        layout.addLayout(bottom)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Keys 1–N answer; Enter goes on after the reveal. Keys reach here unless a child used them."""
        key = event.key()
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self._press(key - Qt.Key.Key_1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._next_if_revealed()
        else:
            super().keyPressEvent(event)

    def show_session_commitment(self, commitment: str, n_rounds: int | None) -> None:
        """Shown from the first round on: the hash that binds the AI's answers to every dealt round. `n_rounds`
        None (blitz): the dealt count is not shown, as it is not the count of rounds the player will play."""
        count = "" if n_rounds is None else f" ({n_rounds} dealt rounds)"
        self.session_line.setText(f"<small>Session commitment{count}: <code>{short_hash(commitment)}</code></small>")
        self.session_line.setToolTip(f"SHA-256 of every dealt round's commitment:\n{commitment}")

    def show_seed_commitment(self, commitment: str) -> None:
        """Ranked: the hash of the server's secret seed, revealed (and checked) at the end."""
        self.session_line.setText(
            f"<small>Ranked · server seed commitment <code>{short_hash(commitment)}</code></small>"
        )
        self.session_line.setToolTip(f"SHA-256 of the server's secret seed, revealed at the end:\n{commitment}")

    # -- showing a round --------------------------------------------------------------------------------------
    def show_round(self, shown: ShownRound) -> bool:
        """Show the image and the AI's commitment with the options locked; returns False if the image is broken."""
        commitment = shown.commitment
        self.header.setText(f"<b>{shown.title}</b>")
        ok = self.image.set_image_bytes(shown.image_bytes)
        self._full_commitment = commitment
        self.commitment.setText(f"AI has committed to its answer: <code>{short_hash(commitment)}</code>")
        self.commitment.setToolTip(f"SHA-256 commitment of the AI's answer:\n{commitment}")
        self.reveal.setText("")
        self.next.setEnabled(False)
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

    def _copy_commitment(self) -> None:
        QGuiApplication.clipboard().setText(self._full_commitment)

    def show_clock(self, remaining_s: float, total_s: float) -> None:
        self.clock.setMaximum(int(total_s * 10))
        self.clock.setValue(max(0, int(remaining_s * 10)))
        self.clock.setFormat(f"{max(0.0, remaining_s):.1f} s left")

    def show_score(self, score: Score) -> None:
        played = score.played
        you = f"You: <b>{score.points}</b> pts, {score.player_correct}/{played} right"
        self.score.setText(f"{you} · AI: {score.ai_correct}/{played} right")

    def show_reveal(self, result: RoundResult, *, last: bool) -> None:
        """Colour the buttons and show truth, both answers, the AI's confidence, salt and the verification."""
        self.set_options_enabled(False)
        for button, label in zip(self.buttons, result.options, strict=True):
            if label == result.truth:
                button.setStyleSheet("background-color: #2e7d32; color: white; font-weight: bold;")
            elif label == result.player_answer:
                button.setStyleSheet("background-color: #c62828; color: white;")
        you = "no answer (time ran out)" if result.player_answer is None else result.player_answer
        mark = "✓" if result.player_correct else "✗"
        ai_mark = "✓" if result.ai_correct else "✗"
        verified = (
            "<span style='color:#2e7d32'><b>verified ✓</b></span>"
            if result.verified
            else "<span style='color:#c62828'><b>MISMATCH ✗</b></span>"
        )
        self.reveal.setText(
            f"Truth: <b>{result.truth}</b> · You: {you} {mark} ({result.elapsed_s:.1f} s, +{result.points} pts) · "
            f"AI: <b>{result.ai.answer}</b> {ai_mark} at {result.ai.confidence / 10:.1f}% confidence"
            f"<br><small>Salt <code>{result.record.salt}</code> · re-hashed commitment {verified}</small>"
        )
        self.next.setText("See results  ⏎" if last else "Next round  ⏎")
        self.next.setEnabled(True)
        self.next.setFocus()
