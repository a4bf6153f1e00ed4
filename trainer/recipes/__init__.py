"""Pack recipes: the original game's datasets, fetched from their publishers and built into packs.

A recipe knows where a dataset lives, its licence and citation, how its files map to classes, and the checksum of
every archive where one is published. `trainer.recipes.fetch` runs one: download, verify, build the pack in a
temporary folder with its manifest (`recipe.json`), and rename it into place. The recipes, in `RECIPES` order:

- ``oxford-pets`` / ``oxford-pets-catdog``: the Oxford-IIIT Pet dataset (37 breeds, or cat vs dog), over HTTP;
- ``vegetables``, ``street-foods``, ``music-instruments``: Kaggle datasets, through Kaggle's client `kagglehub`;
- ``combined``: a pack made of packs already in the workspace, each class prefixed by its pack.
"""

from __future__ import annotations

from classifiers.errors import PackError
from trainer.recipes.base import FetchContext, Fetched, Recipe
from trainer.recipes.combined import COMBINED
from trainer.recipes.kaggle import KAGGLE_RECIPES
from trainer.recipes.oxford_pets import OXFORD_PETS, OXFORD_PETS_CATDOG

RECIPES: dict[str, Recipe] = {
    recipe.name: recipe for recipe in (OXFORD_PETS, OXFORD_PETS_CATDOG, *KAGGLE_RECIPES, COMBINED)
}

__all__ = ["RECIPES", "FetchContext", "Fetched", "Recipe", "find_recipe"]


def find_recipe(name: str) -> Recipe:
    """The recipe called `name`.

    Raises:
        PackError: no such recipe (the message lists them).
    """
    if name not in RECIPES:
        raise PackError(
            f"No pack recipe {name!r}; choose one of: {', '.join(RECIPES)} (eyevsai-train pack fetch --list)."
        )
    return RECIPES[name]
