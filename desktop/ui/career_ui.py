"""The parts of the window that bring a player back, over desktop.services.career: today's challenge, the streak
and achievements on home, personal bests and the share card on the end screen, and the stats screen."""

from __future__ import annotations

import html
import uuid
from datetime import date

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication

from classifiers.errors import EyeVsAIError
from desktop.services.career import Career
from desktop.services.opponent import LoadedOpponent
from desktop.ui.share_card import ShareDialog, render_card
from desktop.ui.stats_view import StatsView
from game_rules.commitment import new_salt
from qtsupport.worker import run_in_background


class CareerUi(QObject):
    """Attached to the MainWindow (its parent): reads the player's career, starts daily challenges."""

    def __init__(self, window, today=None) -> None:  # noqa: ANN001 - the MainWindow; a date source for tests
        super().__init__(window)
        self.window = window
        self.today = today
        self.stats = StatsView()
        window.add_screen(self.stats)
        self.stats.home_requested.connect(window.show_home)
        window.home.daily_requested.connect(self.start_daily)
        window.home.stats_requested.connect(self.show_stats)
        window.end.stats_requested.connect(self.show_stats)
        window.end.share_requested.connect(self.share)
        window.session_finished.connect(self._on_session_finished)
        self.share_dialog: ShareDialog | None = None
        self.last_share_text = ""
        self.refresh_home()

    def career(self) -> Career:
        window = self.window
        profile_id = window.store.profile_id(window.home.profile_name())
        return (
            Career(window.store, profile_id)
            if self.today is None
            else Career(window.store, profile_id, today=self.today)
        )

    def _titles(self) -> dict[str, str]:
        return {o.card.id: o.card.title for entries in self.window.catalog.opponents.values() for o in entries}

    # -- home ---------------------------------------------------------------------------------------------------
    def refresh_home(self) -> None:
        """Today's challenge, the streak and the achievements for the chosen pack and player."""
        window, home = self.window, self.window.home
        pack_id = window.selection.pack_id
        career = self.career()
        if pack_id is not None:
            daily = career.daily(window.catalog.packs[pack_id])
            if daily.is_played:
                home.show_daily(f"Done for {_day(daily.day)} ✓ — a new challenge tomorrow.", playable=False)
            else:
                home.show_daily(
                    f"The same 10 pictures for everyone on {_day(daily.day)}. One try — make it count.", playable=True
                )
        earned = [a for a, ok in career.achievements() if ok]
        missing = [a for a, ok in career.achievements() if not ok]
        streak = career.streak()
        lines = [f"<b style='font-size:14pt'>{streak}</b> day{'s' if streak != 1 else ''} in a row of daily challenges"]
        if earned:
            lines.append(
                "Earned: " + ", ".join(f"<b style='color:#2e7d32'>✓ {html.escape(a.title)}</b>" for a in earned)
            )
        if missing:
            lines.append(f"Next: <b>{html.escape(missing[0].title)}</b> — {html.escape(missing[0].how)}")
        home.show_progress("<br>".join(lines))

    # -- the daily challenge ------------------------------------------------------------------------------------
    def start_daily(self) -> None:
        window = self.window
        entry, pack_id = window.selection.opponent, window.selection.pack_id
        if entry is None or pack_id is None:
            return
        cached = window.opponents.get(entry.card.id)
        if cached is not None:
            self._start_daily_with(cached)
            return
        window.home.show_status("Loading the AI…")
        loader, device = window.load_opponent, window.device

        def loaded(opponent: LoadedOpponent) -> None:
            window.opponents[opponent.entry.card.id] = opponent
            self._start_daily_with(opponent)

        run_in_background(lambda: loader(entry, device=device), loaded, window.reporter.error, parent=self)

    def _start_daily_with(self, opponent: LoadedOpponent) -> None:
        """Deal and store today's challenge on the GUI thread (the store's one writer); ten predictions are quick."""
        window = self.window
        career = self.career()
        try:
            session = career.start_daily(
                window.catalog.packs[window.selection.pack_id],
                opponent,
                session_id=str(uuid.uuid4()),
                new_salt=new_salt,
            )
        except EyeVsAIError as exc:  # already played today, or the pack cannot deal
            window.home.show_status(str(exc))
            self.refresh_home()
            return
        window.home.show_status("")
        window.begin_playing(session, career.profile_id)

    # -- end screen ---------------------------------------------------------------------------------------------
    def _on_session_finished(self) -> None:
        session = self.window.session
        if session is None:
            return
        career = self.career()
        end = self.window.end
        if career.is_personal_best(session.session_id):
            end.show_bests(f"<b style='color:#2e7d32'>★ New personal best: {session.player_points} points!</b>")
        else:
            recap = career.recap(session.session_id)
            bests = career.personal_bests()
            best = next(
                (
                    b
                    for key, b in bests.items()
                    if key[0] == recap.pack_id
                    and key[1] == recap.difficulty
                    and b.mode == recap.mode
                    and (b.daily is None) == (recap.daily is None)
                ),
                None,
            )
            end.show_bests(f"Your best here: {best.player_points} points." if best is not None else "")
        self.refresh_home()

    def share(self) -> None:
        """Copy the result text to the clipboard and show the share card."""
        window = self.window
        session = window.session
        if session is None:
            return
        pack = window.catalog.packs[session.pack_id]
        career = self.career()
        text = career.share_text(session.session_id, pack_title=pack.title, opponent_title=session.opponent.title)
        QGuiApplication.clipboard().setText(text)
        self.last_share_text = text
        recap = career.recap(session.session_id)
        kind = "Daily challenge" if recap.daily is not None else recap.mode.capitalize()
        day = recap.daily or date.fromisoformat(recap.started[:10])
        image = render_card(
            recap, f"Eye vs AI · {kind}", f"{pack.title} · {day.isoformat()} · vs {session.opponent.title}"
        )
        self.share_dialog = ShareDialog(image, text, window)
        self.share_dialog.open()
        window.end.show_status("Result copied to the clipboard.")

    # -- stats --------------------------------------------------------------------------------------------------
    def show_stats(self) -> None:
        window = self.window
        pack_id = window.selection.pack_id
        if pack_id is None:
            return
        pack = window.catalog.packs[pack_id]
        self.stats.show_stats(self.career().stats(pack), pack.title, self._titles())
        window.show_screen(self.stats)


def _day(day: date) -> str:
    return day.strftime("%A %d %B").replace(" 0", " ")
