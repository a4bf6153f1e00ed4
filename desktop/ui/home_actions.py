"""What the home screen's extra buttons do: list content problems, open the trainer ("make your own opponent"),
and the words for the last result and the remembered setup."""

from __future__ import annotations

import html
import importlib.util
import shutil
import sys
from collections.abc import Callable

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QScrollArea, QVBoxLayout, QWidget

TRAINER_HINT = (
    "The trainer is not installed. Install it with <code>pip install 'eyevsai[trainer-gui]'</code> and start it with "
    "<code>eyevsai-trainer</code>: build a picture pack from your own folders, train an AI on it and publish it "
    "to the game — then press “Reload packs & models” here."
)


def trainer_command(
    which: Callable[[str], str | None] = shutil.which, has_module: Callable[[str], bool] | None = None
) -> list[str] | None:
    """How to start the trainer GUI: its command where installed, else the module in this Python; None: absent."""
    found = which("eyevsai-trainer")
    if found:
        return [found]
    has_module = has_module or (lambda name: importlib.util.find_spec(name) is not None)
    try:
        if has_module("trainer.gui"):
            return [sys.executable, "-m", "trainer.gui"]
    except (ImportError, ValueError):  # a parent package that cannot be imported: not installed
        return None
    return None


def open_trainer(parent: QWidget, command: list[str] | None) -> bool:
    """Start the trainer detached, or say how to get it; True when it was started."""
    if command is not None and QProcess.startDetached(command[0], command[1:])[0]:
        return True
    box = QMessageBox(parent)
    box.setWindowTitle("Make your own opponent")
    box.setTextFormat(box.textFormat().RichText)
    box.setText(TRAINER_HINT if command is None else f"The trainer could not be started ({html.escape(command[0])}).")
    box.setObjectName("trainerHint")
    box.open()
    return False


class ProblemsDialog(QDialog):
    """Every problem with the user's packs and models, each naming its file and what to do."""

    def __init__(self, problems: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Problems with your packs and models")
        text = QLabel(
            "<p>These were skipped; everything else can be played.</p><ul>"
            + "".join(f"<li style='margin-bottom:6px'>{html.escape(p)}</li>" for p in problems)
            + "</ul>"
        )
        text.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.text = text
        self.resize(640, 360)


def last_result_text(row: dict, titles: dict[str, str]) -> str:
    """The newest finished session in a line: "You 7 : 10 AI vs Shallow random forest (easy, classic)"."""
    you, ai = row["player_correct"], row["ai_correct"]
    verdict = "You won" if you > ai else "The AI won" if ai > you else "A draw"
    title = html.escape(titles.get(row["model_id"], row["model_id"]))
    return (
        f"{verdict} <b>{you} : {ai}</b> of {row['rounds_played']} against {title} "
        f"({row['difficulty']}, {row['mode']}) · {row['player_points']} pts"
    )
