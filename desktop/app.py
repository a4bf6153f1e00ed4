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
from desktop.services.store import open_store
from desktop.verify import (
    SignedSession,
    decode_server_key,
    pinned_server_keys,
    read_evidence,
    verify_offline,
    verify_ranked,
)

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
        "  eyevsai verify proof.json --rerun --expect-session-commitment HEX",
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
    verify = sub.add_parser(
        "verify",
        help="Check a session proof exported from the end screen, or a ranked session's server-signed record "
        "(exit 0: verified, 1: refused, 2: cannot be checked here).",
    )
    verify.add_argument("proof", type=Path, help="The proof JSON file, or a ranked session's signed record.")
    verify.add_argument("--rerun", action="store_true", help="Also re-run the model on the pack's images.")
    verify.add_argument(
        "--expect-session-commitment",
        metavar="HEX",
        help="The session commitment the game showed when the session started; the proof must carry it.",
    )
    verify.add_argument(
        "--server-key",
        metavar="BASE64",
        help="The ranked server's Ed25519 public key (GET /api/v1/ranked/public-key); default: the keys the game "
        "pinned for the servers it played ranked on.",
    )
    return parser


def run_verify(args: argparse.Namespace, *, catalog: Catalog, data_dir: Path) -> int:
    """`eyevsai verify`: the exit code (0 verified, 1 refused, 2 cannot be checked, see desktop.verify)."""
    evidence = read_evidence(args.proof)
    if isinstance(evidence, SignedSession):
        keys = [decode_server_key(args.server_key)] if args.server_key else pinned_server_keys(data_dir)
        return verify_ranked(evidence, keys, out=print)
    return verify_offline(
        evidence,
        catalog,
        rerun=args.rerun,
        device=args.device,
        expected=args.expect_session_commitment,
        out=print,
    )


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
            return run_verify(args, catalog=catalog, data_dir=data_dir)
        store = open_store(data_dir / DB_FILE)  # a read-only folder plays from memory and says so
        if store.problem:
            catalog.problems.insert(0, store.problem)
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
        log_path=data_dir / LOG_FILE if store.is_saving else None,  # a read-only folder cannot hold the log
        reload_catalog=lambda: load_catalog(content_roots(data_dir)),
    )
