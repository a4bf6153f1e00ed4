"""One pipeline per workspace: an advisory lock on `<workspace>/pipeline.lock`, released when the process dies."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from classifiers.errors import EyeVsAIError

LOCK_FILE = "pipeline.lock"


class WorkspaceBusyError(EyeVsAIError):
    """Another pipeline runs in the same workspace."""


def _try_lock(handle) -> bool:  # noqa: ANN001 - an open binary file
    if os.name == "nt":
        import msvcrt  # lazy: msvcrt, Windows only

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # lazy: fcntl, POSIX only

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def workspace_lock(root: str | Path, *, what: str = "pipeline") -> Iterator[None]:
    """Hold the workspace's pipeline lock for the block.

    Raises:
        WorkspaceBusyError: another process holds it (the message names that process when it can).
    """
    path = Path(root) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        handle.seek(0)
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().decode(errors="replace").strip() or "another process"
            raise WorkspaceBusyError(
                f"A pipeline is already running in {Path(root)} ({holder}); wait for it to "
                f"end (or stop it) before starting the {what}."
            )
        # the lock guards byte 0 on Windows, so the holder's pid goes after it
        handle.seek(0)
        handle.truncate()
        handle.write(f" pid {os.getpid()}".encode())
        handle.flush()
        yield


def is_locked(root: str | Path) -> bool:
    """Whether a pipeline holds the workspace's lock right now."""
    try:
        with workspace_lock(root):
            return False
    except WorkspaceBusyError:
        return True
