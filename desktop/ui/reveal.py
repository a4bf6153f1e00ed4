"""What the reveal says and shows, in plain words: the buttons marked with your pick and the AI's, one sentence
about the round, and the pop-up over the image."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QPushButton

from desktop.core.session import RoundResult
from desktop.ui.round_widgets import GREEN, ORANGE, RED

RIGHT_STYLE = f"background-color: {GREEN}; color: white; font-weight: bold; border-radius: 6px; padding: 6px;"
WRONG_STYLE = f"background-color: {RED}; color: white; border-radius: 6px; padding: 6px;"
AI_WRONG_STYLE = f"background-color: #fff3e0; color: #6d3a00; border: 2px dashed {ORANGE}; border-radius: 6px;"


def button_marks(label: str, result: RoundResult) -> str:
    """The tags after an option's name at the reveal: who picked it."""
    who = [name for name, pick in (("you", result.player_answer), ("AI", result.ai.answer)) if pick == label]
    return "   ◀ " + " and ".join(who) if who else ""  # no "&": a button reads it as a shortcut


def mark_buttons(buttons: list[QPushButton], result: RoundResult) -> None:
    """The truth green; your wrong pick red; the AI's wrong pick dashed orange; your pick and the AI's named."""
    for i, (button, label) in enumerate(zip(buttons, result.options, strict=True)):
        button.setText(f"{i + 1}.  {label.capitalize()}{button_marks(label, result)}")
        if label == result.truth:
            button.setStyleSheet(RIGHT_STYLE)
        elif label == result.player_answer:
            button.setStyleSheet(WRONG_STYLE)
        elif label == result.ai.answer:
            button.setStyleSheet(AI_WRONG_STYLE)


def reveal_sentence(result: RoundResult) -> str:
    """One or two lines a player reads at a glance."""
    truth = html.escape(result.truth)
    ai = html.escape(result.ai.answer)
    sure = f"{result.ai.confidence / 10:.0f} % sure"
    if result.player_answer is None:
        you = f"<span style='color:{RED}'>The time ran out</span> — it was a <b>{truth}</b>."
    elif result.player_correct:
        you = f"<span style='color:{GREEN}'><b>Right!</b></span> It was a <b>{truth}</b> (+{result.points} pts, "
        you += f"{result.elapsed_s:.1f} s)."
    else:
        you = f"<span style='color:{RED}'><b>Not quite</b></span> — it was a <b>{truth}</b>."
    if result.ai_correct:
        ai_line = f"The AI said {ai} ({sure}) ✓"
    else:
        ai_line = f"The AI said <b>{ai}</b> ({sure}) ✗"
    if result.player_correct and not result.ai_correct:
        ai_line += f" — <b style='color:{GREEN}'>you fooled the AI!</b>"
    elif result.ai_correct and not result.player_correct:
        ai_line += " — this one fooled you."
    return f"{you}<br>{ai_line}"


def popup_for(result: RoundResult) -> tuple[str, str]:
    """The pop-up's text and colour."""
    if result.player_correct:
        return (f"+{result.points}  beat the AI!", GREEN) if not result.ai_correct else (f"+{result.points}", GREEN)
    if result.player_answer is None:
        return "time's up", RED
    return ("miss", RED) if result.ai_correct else ("miss — AI too", ORANGE)


def lock_details(result: RoundResult) -> str:
    """The hashes behind the padlock, for those who want to check."""
    verified = "matches ✓" if result.verified else "DOES NOT MATCH ✗"
    return (
        f"<small>Commitment <code>{result.commitment}</code><br>"
        f"Salt <code>{result.record.salt}</code> · the re-hashed answer {verified}.<br>"
        "Check any session later with <code>eyevsai verify</code> on its exported proof.</small>"
    )
