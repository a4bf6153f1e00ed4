"""Starting a game: only images that decode are dealt, renumbered, and too few readable images is a pack error."""

from __future__ import annotations

import pytest

from classifiers.errors import PackError
from desktop.services.dealer import keep_playable
from game_rules.deal import deal

CLASSES = ["bag", "coat", "dress", "shirt"]
IMAGES = [(f"{i:064x}", CLASSES[i % len(CLASSES)]) for i in range(20)]


def test_unreadable_candidates_are_skipped_and_the_rest_renumbered() -> None:
    candidates = deal("s", IMAGES, CLASSES, 8)
    broken = {candidates[0].image, candidates[3].image}
    kept = keep_playable(candidates, {r.image for r in candidates} - broken, 5)
    assert [r.number for r in kept] == [1, 2, 3, 4, 5]
    assert [r.image for r in kept] == [r.image for r in candidates if r.image not in broken][:5]


def test_too_few_readable_images_is_a_pack_error_that_says_what_to_do() -> None:
    candidates = deal("s", IMAGES, CLASSES, 6)
    with pytest.raises(PackError, match="Only 2 of the dealt images could be read; 5 are needed.*reinstall"):
        keep_playable(candidates, {candidates[0].image, candidates[1].image}, 5)
