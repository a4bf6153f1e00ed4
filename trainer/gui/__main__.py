"""`eyevsai-trainer` (also `python -m trainer.gui`): the trainer GUI's composition root."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from classifiers.locations import display_problem, user_data_dir
from trainer.workspace import Workspace


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eyevsai-trainer",
        description="Eye vs AI trainer: build image packs, train, inspect, tune and publish classifiers, offline.",
        epilog="Example:\n  eyevsai-trainer --workspace ~/eyevsai-work",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        help="Trainer workspace (default: $EYEVSAI_WORKSPACE or "
        "<user data dir>/trainer); the same one `eyevsai-train` uses.",
    )
    parser.add_argument(
        "--game-data-dir",
        type=Path,
        help="Where 'Publish' puts packs and models for the game "
        "(default: the game's user data folder, $EYEVSAI_DATA_DIR).",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = display_problem(os.environ, sys.platform)
    if problem:
        print(
            f"eyevsai-trainer: {problem}. Start it from a desktop session, or use the command line: "
            "eyevsai-train --help",
            file=sys.stderr,
        )
        return 2
    try:
        from trainer.gui.app import run_trainer  # lazy: Qt (PySide6), after the command line is checked
    except ImportError as exc:  # Qt and pyqtgraph come with the trainer-gui extra, which also brings train
        print(
            f"eyevsai-trainer needs {exc.name or 'a missing package'}, which is not installed: "
            "pip install 'eyevsai[trainer-gui,cpu]' (the command line, eyevsai-train, needs only 'eyevsai[train,cpu]')",
            file=sys.stderr,
        )
        return 2
    workspace = Workspace.resolve(args.workspace)
    return run_trainer(workspace, game_data_dir=args.game_data_dir or user_data_dir(), argv=[sys.argv[0]])


if __name__ == "__main__":
    sys.exit(main())
