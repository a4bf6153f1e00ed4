"""`eyevsai --server URL` and `eyevsai sync` from the command line."""

from __future__ import annotations

from pathlib import Path

from desktop.app import main as eyevsai
from desktop.services.online.settings import read_settings


def test_sync_without_a_server_or_a_sign_in_says_what_to_do(data_dir: Path, capsys) -> None:
    assert eyevsai(["--data-dir", str(data_dir), "sync"]) == 2
    assert "no sync server is set" in capsys.readouterr().err
    assert eyevsai(["--data-dir", str(data_dir), "--server", "http://127.0.0.1:9", "sync"]) == 2
    assert "not signed in to http://127.0.0.1:9" in capsys.readouterr().err
    assert read_settings(data_dir).server_url == "http://127.0.0.1:9"  # --server is remembered
    assert eyevsai(["--data-dir", str(data_dir), "--server", "none", "sync"]) == 2
    assert read_settings(data_dir).is_offline


def test_a_bad_server_address_is_one_clear_line(data_dir: Path, capsys) -> None:
    assert eyevsai(["--data-dir", str(data_dir), "--server", "ftp://example.org", "sync"]) == 2
    assert capsys.readouterr().err.startswith("eyevsai: The server address 'ftp://example.org' is not an http(s)")
