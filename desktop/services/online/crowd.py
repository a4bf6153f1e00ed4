"""What other players did on the same images, as the sync server aggregates it (issue 20): one image's share of
right answers, and a pack's per-class accuracy and galleries (hardest images for people, images that fool the AI but
not people).

The crowd is decoration, never a reason to stop the game: offline, with too few players behind a statistic (the
server withholds it), or with an answer this version cannot read, each function returns None and the game shows
nothing. Every function blocks on the network: run it in a worker.

The statistics are kept per ORIGINAL pack image. An offline round shows that image (its sha256; the statistics are
those of shared offline rounds, kept apart as unverified); a ranked round shows a per-session variant, and the server,
which knows the variant's source, answers for the round itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.services.online.client import ServerClient
from desktop.services.online.errors import OnlineError

GALLERY_SIZE = 8  # thumbnails per gallery on the end screen


@dataclass(frozen=True)
class ImageCrowd:
    """How the players who saw one image answered it."""

    image: str
    players: int
    share_right: float  # 0..1
    median_time_s: float | None = None
    is_verified: bool = True  # False: from offline rounds players chose to share, which no server timed

    @property
    def line(self) -> str:
        """The sentence at the reveal: "62 % of players got this right"."""
        text = f"{self.share_right * 100:.0f} % of players got this right"
        return text if self.is_verified else f"{text} (in offline rounds they shared)"


@dataclass(frozen=True)
class GalleryImage:
    """One image of a pack gallery: its truth, the players' share of right answers, and the AI's where known."""

    image: str
    label: str | None
    share_right: float
    players: int
    ai_share_right: float | None = None


@dataclass(frozen=True)
class PackCrowd:
    """A pack's crowd statistics: per-class share of right answers and the two galleries."""

    pack_id: str
    players: int
    class_accuracy: dict[str, float]
    hardest: tuple[GalleryImage, ...]
    fools_ai_not_people: tuple[GalleryImage, ...]

    @property
    def has_galleries(self) -> bool:
        return bool(self.hardest or self.fools_ai_not_people)


# -- reading the server's answers (X1's stats API, docs/design.md) -------------------------------------------------
def parse_image(obj: Mapping[str, Any], image: str) -> ImageCrowd | None:
    """An image's statistics, or None when the server withholds them (too few players)."""
    if not obj.get("enough_players") or obj.get("accuracy") is None:
        return None
    median_ms = obj.get("median_ms")
    return ImageCrowd(
        image=str(obj.get("image_sha256") or image),
        players=int(obj.get("players") or 0),
        share_right=float(obj["accuracy"]),
        median_time_s=float(median_ms) / 1000 if median_ms is not None else None,
        is_verified=bool(obj.get("verified", True)),
    )


def _gallery(items: Any) -> tuple[GalleryImage, ...]:
    return tuple(
        GalleryImage(
            image=str(item["image_sha256"]),
            label=item.get("label"),
            share_right=float(item["accuracy"]),
            players=int(item.get("players") or 0),
            ai_share_right=float(item["ai_accuracy"]) if item.get("ai_accuracy") is not None else None,
        )
        for item in (items or [])[:GALLERY_SIZE]
    )


def parse_pack(obj: Mapping[str, Any], pack_id: str) -> PackCrowd | None:
    """A pack's statistics (ranked rounds only), or None when the server has none to show yet."""
    if not obj.get("enough_players"):
        return None
    return PackCrowd(
        pack_id=str(obj.get("pack_id") or pack_id),
        players=int(obj.get("players") or 0),
        class_accuracy={
            str(row["label"]): float(row["accuracy"])
            for row in obj.get("per_class") or []
            if row.get("accuracy") is not None
        },
        hardest=_gallery(obj.get("hardest")),
        fools_ai_not_people=_gallery(obj.get("fool_ai")),
    )


# -- fetching -----------------------------------------------------------------------------------------------------
QUIET = (OnlineError, KeyError, TypeError, ValueError, AttributeError)  # no answer, or one this version cannot read


def offline_image_crowd(client: ServerClient | None, pack_id: str, image: str) -> ImageCrowd | None:
    """An offline round's image (the pack's test split): what players who share their offline rounds answered.
    None offline, when withheld, or when the server cannot say."""
    if client is None:
        return None
    try:
        return parse_image(client.image_stats(pack_id, image, source="offline"), image)
    except QUIET:
        return None


def ranked_round_crowd(client: ServerClient | None, session_id: str, number: int) -> ImageCrowd | None:
    """The crowd on the pack image behind an answered ranked round's variant (the server knows which one)."""
    if client is None:
        return None
    try:
        return parse_image(client.ranked_round_stats(session_id, number), "")
    except QUIET:
        return None


def pack_crowd(client: ServerClient | None, pack_id: str) -> PackCrowd | None:
    """A pack's statistics from ranked rounds; None offline, when withheld, or when the server cannot say."""
    if client is None:
        return None
    try:
        return parse_pack(client.pack_stats(pack_id, gallery=GALLERY_SIZE), pack_id)
    except QUIET:
        return None
