"""The end screen's crowd galleries for a pack: the images people find hardest, and the images that fool the AI but
not people, each a row of thumbnails from the local pack with the players' (and the AI's) share of right answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from desktop.services.online.crowd import GalleryImage, PackCrowd
from desktop.ui.round_review import thumbnail
from desktop.ui.round_widgets import GREEN, RED

THUMB = 72


def card_text(item: GalleryImage) -> str:
    """Under a thumbnail: the truth, then who got it right."""
    lines = [item.label or "?", f"people {item.share_right:.0%}"]
    if item.ai_share_right is not None:
        lines.append(f"AI {item.ai_share_right:.0%}")
    return "\n".join(lines)


class CrowdCard(QToolButton):
    """One gallery image: thumbnail, truth, the players' and the AI's share of right answers."""

    def __init__(self, item: GalleryImage, data: bytes, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setIcon(QIcon(thumbnail(data, THUMB)))
        self.setIconSize(QSize(THUMB, THUMB))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setText(card_text(item))
        ai = f"; the AI {item.ai_share_right:.0%} of the time" if item.ai_share_right is not None else ""
        self.setToolTip(
            f"A {item.label or '?'}: {item.players} players saw it, {item.share_right:.0%} got it right{ai}."
        )
        self.setStyleSheet(
            f"QToolButton {{ border: 2px solid {colour}; border-radius: 8px; background: white; padding: 3px; }}"
        )
        self.setMinimumWidth(THUMB + 24)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do on it: Tab goes to the end screen's buttons


class CrowdRow(QWidget):
    """A titled row of CrowdCards that scrolls sideways when the window is narrow."""

    def __init__(self, title: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = colour
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards: list[CrowdCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.scroll)

    def show_items(self, items: Sequence[GalleryImage], read_image: Callable[[str], bytes]) -> None:
        inner = QWidget()
        row = QHBoxLayout(inner)
        row.setContentsMargins(0, 0, 0, 0)
        self.cards = [CrowdCard(item, read_image(item.image), self.colour) for item in items]
        for card in self.cards:
            row.addWidget(card)
        row.addStretch(1)
        self.scroll.setWidget(inner)
        self.scroll.setMinimumHeight(inner.sizeHint().height() + 6)
        self.setVisible(bool(items))


class CrowdGalleries(QWidget):
    """Both galleries of a pack; hidden until the server has enough players to show them (never offline)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.hardest = CrowdRow("<b>Hardest images for people</b>", RED)
        self.fools_ai = CrowdRow("<b>Images that fool the AI but not people</b>", GREEN)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.hardest)
        layout.addWidget(self.fools_ai)
        layout.addStretch(1)
        self.setVisible(False)

    @property
    def is_shown(self) -> bool:
        return not self.isHidden()

    def show_crowd(self, crowd: PackCrowd | None, read_image: Callable[[str], bytes]) -> None:
        """The pack's galleries, thumbnails read from the local pack; None (offline, too few players) hides them."""
        if crowd is None or not crowd.has_galleries:
            self.clear()
            return
        self.intro.setText(
            f"From the ranked rounds of {crowd.players} players on this server: each image's share of right answers "
            "among the people who saw it, and the AI opponents' share on the same images."
        )
        self.hardest.show_items(crowd.hardest, read_image)
        self.fools_ai.show_items(crowd.fools_ai_not_people, read_image)
        self.setVisible(True)

    def clear(self) -> None:
        self.hardest.show_items((), lambda _: b"")
        self.fools_ai.show_items((), lambda _: b"")
        self.setVisible(False)
