"""The game's composition root: settings, the store and the catalog, handed to the UI or to `verify`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from classifiers.errors import EyeVsAIError
from classifiers.locations import bundled_assets_dir, display_problem, user_data_dir
from classifiers.runtime import install_problem
from desktop.selftest import run_self_test
from desktop.services.catalog import Catalog, load_catalog
from desktop.services.online.cli import run_sync
from desktop.services.online.connection import OnlineConnection
from desktop.services.store import Store
from desktop.verify import check_proof, read_proof, rerun_with_catalog

DB_FILE = "eyevsai.db"
LOG_FILE = "eyevsai.log"  # errors the game reported, beside the database


def content_roots(data_dir: Path) -> list[Path]:
    """The user's packs/models first (they win on id clashes), then the bundled ones."""
    return [data_dir, bundled_assets_dir()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eyevsai",
        description="Eye vs AI: classify images against an AI opponent.",
        epilog="Examples:\n  eyevsai\n  eyevsai --device cpu\n  eyevsai --self-test\n"
        "  eyevsai verify proof.json --rerun",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="Where profiles, history, extra packs and models live "
        "(default: $EYEVSAI_DATA_DIR or the platform's user data folder).",
    )
    parser.add_argument(
        "--device", choices=("auto", "cpu"), default=None, help="Inference device: auto (GPU when available) or cpu."
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="Check the installation without a window: load every bundled model, play one scripted "
        "round, verify its commitment; exit 0 when all is well.",
    )
    parser.add_argument(
        "--quit-when-shown",
        action="store_true",
        help="Open the main window, print 'window shown' with the start-up time, and quit (a packaging check).",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="Use this sync server from now on (saved in the data "
        "folder), e.g. https://eyevsai.example.org; 'none' makes the game fully offline again. "
        "Without a server (the default) the game makes no network call at all.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "sync",
        help="Upload finished sessions waiting in the outbox to the sync server, then exit "
        "(0: all synced, 1: some wait or were refused, 2: no server set or not signed in).",
    )
    verify = sub.add_parser("verify", help="Re-check a session proof exported from the end screen.")
    verify.add_argument("proof", type=Path, help="The proof JSON file.")
    verify.add_argument("--rerun", action="store_true", help="Also re-run the model on the pack's images.")
    return parser


def run_verify(proof_path: Path, *, rerun: bool, catalog: Catalog, device: str | None) -> int:

    proof = read_proof(proof_path)
    session_ok, checks = check_proof(proof, rerun_with_catalog(catalog, proof.to_json_obj(), device) if rerun else None)
    for check in checks:
        ok = check.hash_ok and check.rerun_ok is not False
        print(f"round {check.number:3d}  {'OK ' if ok else 'BAD'}  {check.note}")
    print(f"session commitment {'OK' if session_ok else 'MISMATCH'}: {proof.session_commitment}")
    all_ok = session_ok and all(c.hash_ok and c.rerun_ok is not False for c in checks)
    print("proof verified" if all_ok else "proof FAILED verification")
    return 0 if all_ok else 1


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    data_dir = user_data_dir(args.data_dir)
    if args.self_test:
        return run_self_test(assets_dir=bundled_assets_dir(), data_dir=data_dir, device=args.device)
    problem = install_problem()
    if problem:
        print(f"eyevsai: warning: {problem}", file=sys.stderr)
    try:
        catalog = load_catalog(content_roots(data_dir))
        if args.command == "verify":
            return run_verify(args.proof, rerun=args.rerun, catalog=catalog, device=args.device)
        store = Store(data_dir / DB_FILE)
        store.abandon_unfinished()
        online = OnlineConnection(data_dir, store)
        if args.server is not None:
            online.set_server(args.server)
        if args.command == "sync":
            return run_sync(online)
    except EyeVsAIError as exc:
        print(f"eyevsai: {exc}", file=sys.stderr)
        return 2
    problem = display_problem(os.environ, sys.platform)
    if problem:
        print(
            f"eyevsai: {problem}. Start the game from a desktop session, or check the installation without a "
            "window: eyevsai --self-test",
            file=sys.stderr,
        )
        return 2
    from desktop.ui.app import run_game  # lazy: Qt (PySide6): verify, sync and --self-test run without it

    def report_shown() -> None:
        print(f"window shown {time.perf_counter() - started:.2f} s after main() started", flush=True)

    return run_game(
        catalog,
        store,
        device=args.device,
        quit_when_shown=report_shown if args.quit_when_shown else None,
        online=online,
        log_path=data_dir / LOG_FILE,
        reload_catalog=lambda: load_catalog(content_roots(data_dir)),
    )
