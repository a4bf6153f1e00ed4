"""The model registry: every training run of a workspace, in SQLite (`<workspace>/registry.db`) or on a database URL.

A run is a row keyed by model id. Its status moves running → done | failed | interrupted; a done model becomes
superseded when a newer model of the same pack, family and variant finishes in the same models folder. Writes are
single transactions and model folders appear by an atomic rename, so a process killed at any moment leaves a state
that `reconcile` turns consistent: a running row whose process is gone becomes done (its folder was renamed into
place) or interrupted (it was not), and a model folder the registry never heard of is adopted.

Several machines may share one registry (`--registry postgresql://...`, docs/operators.md "Training on several
machines"): a running row names its host, and only that host can tell whether its process is gone, so `reconcile`
settles the rows of its own host only (the pipeline's job leases settle the others). The database itself (engine,
tables, migrations) is `trainer.registry_database`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.card import CARD_FILE, ONNX_FILE, ModelCard, read_card, write_card
from classifiers.difficulty import assign_difficulties
from classifiers.errors import EyeVsAIError, ModelCardError
from classifiers.progress import Progress
from trainer.registry_database import COLUMNS, SCHEMA_VERSION, migrate, open_engine, shown, tables, transaction

REGISTRY_FILE = "registry.db"
REGISTRY_URL_ENV = "EYEVSAI_REGISTRY_URL"
RUNNING, DONE, FAILED, INTERRUPTED, SUPERSEDED, MISSING = (
    "running",
    "done",
    "failed",
    "interrupted",
    "superseded",
    "missing",
)
STATUSES = (RUNNING, DONE, FAILED, INTERRUPTED, SUPERSEDED, MISSING)
REMOVABLE = (FAILED, INTERRUPTED, SUPERSEDED, MISSING)  # what `models cleanup` deletes
JSON_COLUMNS = ("metrics", "config")
HOST_ENV = "EYEVSAI_TRAINER_HOST"  # names this machine where host names are not unique (the tests' "machines")
HOST = os.environ.get(HOST_ENV) or socket.gethostname()


class RegistryError(EyeVsAIError):
    """The registry database cannot be used (unreadable, from a newer trainer) or a model id is unknown."""


@dataclass
class ModelRecord:
    """One registry row, with its JSON columns decoded."""

    id: str
    family: str
    variant: str
    pack_id: str
    version: int
    status: str
    job: str | None = None
    tuned: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    test_accuracy: float | None = None
    difficulty: str | None = None
    model_dir: str | None = None
    onnx_path: str | None = None
    onnx_sha256: str | None = None
    onnx_bytes: int | None = None
    created: str | None = None
    finished: str | None = None
    seconds: float | None = None
    log_path: str | None = None
    checkpoint: str | None = None
    pid: int | None = None
    owner_pid: int | None = None
    error: str | None = None
    host: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ModelRecord:
        values = dict(row)
        for name in JSON_COLUMNS:
            values[name] = json.loads(values[name]) if values.get(name) else {}
        values["tuned"] = bool(values.get("tuned"))
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}

    @property
    def files(self) -> list[Path]:
        """What this run left on disk: its model folder (or half-written one), checkpoint and log."""
        paths = []
        if self.model_dir:
            paths += [Path(self.model_dir), Path(self.model_dir + ".partial")]
        paths += [Path(p) for p in (self.checkpoint, self.log_path) if p]
        return [p for p in paths if p.exists()]

    @property
    def is_settled_here(self) -> bool:
        """Whether this running row's process is known to be gone: it ran on this host and its process ended.

        A row of another host is that host's to settle (its pid means nothing here)."""
        return self.host in (None, HOST) and not is_alive(self.owner_pid)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def is_alive(pid: int | None) -> bool:
    """Whether a process with this id runs (a reused id reads as alive: the safe side for a registry)."""
    if not pid:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C on Windows
        import ctypes  # lazy: ctypes, Windows only

        handle = ctypes.windll.kernel32.OpenProcess(0x100000, False, pid)  # SYNCHRONIZE
        if not handle:
            return False
        try:
            return ctypes.windll.kernel32.WaitForSingleObject(handle, 0) == 0x102  # WAIT_TIMEOUT
        finally:
            ctypes.windll.kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (dead, not yet reaped by an init that does not reap) answers signal 0 too
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class ModelRegistry:
    """Read and write one registry (an SQLite file or a database URL). Every write is one transaction."""

    def __init__(self, location: str | Path) -> None:
        """Raises: RegistryError (unreadable, or from a newer trainer); MissingExtraError (no SQLAlchemy/driver)."""
        import sqlalchemy as sa  # lazy: sqlalchemy, with the train extra (open_engine says so when it is missing)

        self.location = location
        self.engine = open_engine(location)
        try:
            found = migrate(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise RegistryError(
                f"The model registry {shown(location)} cannot be opened ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}). Move a broken file away to start a new one; `eyevsai-train models "
                "list` then re-adopts the model folders."
            ) from exc
        if found > SCHEMA_VERSION:
            self.engine.dispose()
            raise RegistryError(
                f"The model registry {shown(location)} has schema version {found}, newer than this "
                f"trainer's {SCHEMA_VERSION}. Upgrade eyevsai-train."
            )
        self.models = tables()[0]

    @property
    def path(self) -> str:
        """Where the registry is, for messages (a URL without its password)."""
        return shown(self.location)

    def close(self) -> None:
        self.engine.dispose()

    def _rows(self, *conditions: Any, order: tuple[Any, ...] = (), limit: int | None = None) -> list[dict[str, Any]]:
        import sqlalchemy as sa  # lazy: sqlalchemy

        query = sa.select(self.models).where(*conditions).order_by(*order).limit(limit)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def _update(self, connection: Any, model_id: str, values: dict[str, Any]) -> None:
        connection.execute(self.models.update().where(self.models.c.id == model_id).values(**values))

    # -- reading ----------------------------------------------------------------------------------------------
    def get(self, model_id: str) -> ModelRecord:
        """Raises: RegistryError for an unknown id."""
        rows = self._rows(self.models.c.id == model_id)
        if not rows:
            raise RegistryError(
                f"No model '{model_id}' in the registry {self.path}. See `eyevsai-train models list --all`."
            )
        return ModelRecord.from_row(rows[0])

    def find(self, model_id: str) -> ModelRecord | None:
        try:
            return self.get(model_id)
        except RegistryError:
            return None

    def records(self, *, pack_id: str | None = None, statuses: tuple[str, ...] | None = None) -> list[ModelRecord]:
        """Rows, oldest first, optionally of one pack and some statuses."""
        where = []
        if pack_id is not None:
            where.append(self.models.c.pack_id == pack_id)
        if statuses:
            where.append(self.models.c.status.in_(statuses))
        rows = self._rows(*where, order=(self.models.c.created, self.models.c.id))
        return [ModelRecord.from_row(row) for row in rows]

    def active(self, pack_id: str, models_dir: str | Path | None = None) -> list[ModelRecord]:
        """The models of a pack that play (done, not superseded), optionally only those in one models folder."""
        records = self.records(pack_id=pack_id, statuses=(DONE,))
        if models_dir is None:
            return records
        return [r for r in records if _folder(r) == _resolved(models_dir)]

    def finished_job(
        self, pack_id: str, family: str, variant: str, *, tuned: bool, models_dir: str | Path
    ) -> ModelRecord | None:
        """The done model in models_dir that satisfies a pipeline job (a tuned job needs a tuned model), if any."""
        for record in reversed(self.active(pack_id, models_dir)):
            if (record.family, record.variant) == (family, variant) and (record.tuned or not tuned):
                return record
        return None

    def last_run(self, job: str) -> ModelRecord | None:
        columns = self.models.c
        runs = self._rows(columns.job == job, order=(columns.created.desc(), columns.id.desc()), limit=1)
        return ModelRecord.from_row(runs[0]) if runs else None

    # -- writing ----------------------------------------------------------------------------------------------
    def begin(
        self,
        model_id: str,
        *,
        family: str,
        variant: str,
        pack_id: str,
        config: dict[str, Any],
        model_dir: str | Path,
        job: str | None = None,
        tuned: bool = False,
        log_path: str | Path | None = None,
        checkpoint: str | Path | None = None,
        pid: int | None = None,
        owner_pid: int | None = None,
    ) -> None:
        """Record a run that starts now (status running) on this host."""
        with transaction(self.engine) as connection:
            values = {
                "id": model_id,
                "family": family,
                "variant": variant,
                "pack_id": pack_id,
                "status": RUNNING,
                "job": job,
                "tuned": int(tuned),
                "config": json.dumps(config, default=str),
                "model_dir": str(model_dir),
                "created": now(),
                "log_path": str(log_path) if log_path else None,
                "checkpoint": str(checkpoint) if checkpoint else None,
                "pid": pid or os.getpid(),
                "owner_pid": owner_pid or pid or os.getpid(),
                "error": None,
                "finished": None,
                "metrics": None,
                "test_accuracy": None,
                "difficulty": None,
                "onnx_path": None,
                "onnx_sha256": None,
                "onnx_bytes": None,
                "seconds": None,
                "host": HOST,
            }
            values["version"] = self._next_version(connection, pack_id, family, variant)
            exists = connection.execute(self.models.select().where(self.models.c.id == model_id)).first()
            if exists:
                self._update(connection, model_id, values)
            else:
                connection.execute(self.models.insert().values(**values))

    def _next_version(self, connection: Any, pack_id: str, family: str, variant: str) -> int:
        import sqlalchemy as sa  # lazy: sqlalchemy

        columns = self.models.c
        query = sa.select(sa.func.max(columns.version)).where(
            columns.pack_id == pack_id, columns.family == family, columns.variant == variant
        )
        return (connection.execute(query).scalar() or 0) + 1

    def finish(
        self,
        card: ModelCard,
        model_dir: str | Path,
        *,
        seconds: float | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        """Record a finished model (inserting its row if `begin` was never recorded) and supersede older ones.

        One transaction: a reader sees either the old set of active models or the new one.
        """
        model_dir = Path(model_dir)
        onnx = model_dir / ONNX_FILE
        values = {
            "id": card.id,
            "family": card.family,
            "variant": card.variant,
            "pack_id": card.pack_id,
            "status": DONE,
            "metrics": json.dumps(card.metrics),
            "test_accuracy": card.test_accuracy,
            "difficulty": card.difficulty,
            "model_dir": str(model_dir),
            "onnx_path": str(onnx),
            "onnx_sha256": card.onnx_sha256,
            "onnx_bytes": onnx.stat().st_size if onnx.exists() else None,
            "finished": now(),
            "seconds": seconds if seconds is not None else card.training.get("seconds"),
            "error": None,
        }
        with transaction(self.engine) as connection:
            existing = connection.execute(self.models.select().where(self.models.c.id == card.id)).first()
            if existing is None:
                values |= {
                    "version": self._next_version(connection, card.pack_id, card.family, card.variant),
                    "created": card.created or now(),
                    "tuned": int(bool(card.training.get("tuning"))),
                    "config": json.dumps(config if config is not None else card.training, default=str),
                }
                connection.execute(self.models.insert().values(**values))
            else:
                if config is not None:
                    values["config"] = json.dumps(config, default=str)
                self._update(connection, card.id, values)
            self._supersede(connection, card.id)

    def _supersede(self, connection: Any, model_id: str) -> None:
        """The latest run of a pack/family/variant in a models folder plays; older ones are superseded.

        Models folders are separate collections (as `train --models-dir` makes them): a model in one never
        supersedes a model in another. An older run that finishes late is superseded at once.
        """
        columns = self.models.c
        (finished,) = [ModelRecord.from_row(dict(row)) for row in self._select(connection, columns.id == model_id)]
        same = self._select(
            connection,
            columns.pack_id == finished.pack_id,
            columns.family == finished.family,
            columns.variant == finished.variant,
            columns.status == DONE,
        )
        for other in (ModelRecord.from_row(dict(row)) for row in same):
            if other.id == finished.id or _folder(other) != _folder(finished):
                continue
            older = other if other.version < finished.version else finished
            self._update(connection, older.id, {"status": SUPERSEDED, "difficulty": None})
            if older is finished:
                return

    def _select(self, connection: Any, *conditions: Any) -> list[Any]:
        query = self.models.select().where(*conditions).order_by(self.models.c.created, self.models.c.id)
        return list(connection.execute(query).mappings())

    def fail(self, model_id: str, error: str, *, status: str = FAILED) -> None:
        """Mark a run failed (or interrupted) with its error message."""
        with transaction(self.engine) as connection:
            self._update(connection, model_id, {"status": status, "error": error[-2000:], "finished": now()})

    def set_difficulties(self, levels: dict[str, str | None]) -> None:
        with transaction(self.engine) as connection:
            for model_id, level in levels.items():
                self._update(connection, model_id, {"difficulty": level})

    def delete(self, model_id: str) -> None:
        with transaction(self.engine) as connection:
            connection.execute(self.models.delete().where(self.models.c.id == model_id))

    # -- keeping it consistent --------------------------------------------------------------------------------
    def refresh_difficulties(self, pack_id: str) -> dict[str, str]:
        """Easy/medium/hard by test-accuracy terciles among the pack's active models of each models folder.

        Rewrites the cards whose difficulty changed; returns model id → difficulty.
        """
        groups: dict[Path, dict[str, tuple[Path, ModelCard]]] = {}
        for record in self.active(pack_id):
            try:
                card = read_card(record.model_dir or "", check_onnx=False)
            except ModelCardError:
                continue  # reconcile marks it missing
            groups.setdefault(_folder(record), {})[record.id] = (Path(record.model_dir or ""), card)
        levels: dict[str, str] = {}
        for cards in groups.values():
            levels |= rank_cards(cards.values())
        self.set_difficulties(dict(levels))
        return levels

    def reconcile(self, models_dir: str | Path) -> list[str]:
        """Settle runs whose process is gone, flag vanished models, adopt unregistered folders.

        Returns one line per change, for the caller to show.
        """
        changes = []
        for record in self.records(statuses=(RUNNING,)):
            if not record.is_settled_here:
                continue
            card = _card_or_none(record.model_dir)
            if card is not None and card.id == record.id:
                self.finish(card, record.model_dir or "")
                changes.append(f"{record.id}: finished before its process stopped; recorded as done")
            else:
                self.fail(record.id, "interrupted: its process stopped before the model was saved", status=INTERRUPTED)
                _remove_paths([Path(record.model_dir + ".partial")] if record.model_dir else [])
                changes.append(f"{record.id}: interrupted")
        for record in self.records(statuses=(DONE, SUPERSEDED)):
            if not (record.onnx_path and Path(record.onnx_path).is_file()):
                self.fail(record.id, f"model files are gone from {record.model_dir}", status=MISSING)
                changes.append(f"{record.id}: files missing from {record.model_dir}")
        changes += self._adopt(Path(models_dir))
        return changes

    def _adopt(self, models_dir: Path) -> list[str]:
        changes = []
        known = {record.id for record in self.records()}
        for card_path in sorted(models_dir.glob(f"*/{CARD_FILE}")) if models_dir.is_dir() else []:
            card = _card_or_none(str(card_path.parent))
            if card is not None and card.id not in known:
                self.finish(card, card_path.parent)
                changes.append(f"{card.id}: adopted from {card_path.parent}")
        return changes

    def remove(self, record: ModelRecord) -> list[Path]:
        """Delete a run's files and its row; return the paths removed."""
        removed = record.files
        _remove_paths(removed)
        self.delete(record.id)
        return removed


def _resolved(path: str | Path) -> Path:
    return Path(path).resolve()


def _folder(record: ModelRecord) -> Path:
    """The models folder a record's model lives in."""
    return _resolved(record.model_dir or ".").parent


def _card_or_none(model_dir: str | None) -> ModelCard | None:
    if not model_dir:
        return None
    try:
        return read_card(model_dir)
    except ModelCardError:
        return None


def _remove_paths(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink(missing_ok=True)


def iter_stale_partials(models_dir: str | Path, registry: ModelRegistry) -> Iterator[Path]:
    """Half-written model folders (`*.partial`) that no running process owns."""
    running = {record.id for record in registry.records(statuses=(RUNNING,)) if not record.is_settled_here}
    root = Path(models_dir)
    for path in sorted(root.glob("*.partial")) if root.is_dir() else []:
        if path.name.removesuffix(".partial") not in running:
            yield path


def rank_cards(models: Iterable[tuple[Path, ModelCard]]) -> dict[str, str]:
    """Difficulty by test-accuracy terciles for these (folder, card) models of one pack; rewrites the cards whose
    level changed. Returns model id → level."""
    models = list(models)
    levels = assign_difficulties(card for _, card in models)
    for path, card in models:
        if card.difficulty != levels[card.id]:
            card.difficulty = levels[card.id]
            write_card(card, path)
    return levels


def record_training(
    registry: ModelRegistry,
    work: Generator[Progress, None, Any],
    *,
    model_id: str,
    family: str,
    variant: str,
    pack_id: str,
    models_dir: str | Path,
    config: dict[str, Any],
    tuned: bool = False,
) -> Generator[Progress, None, Any]:
    """Wrap `training.train_model(...)` so the run is in the registry: running, then done or failed.

    Every train command calls this (the pipeline records from its parent process instead). Returns the
    TrainResult, its card's difficulty ranked among the pack's active models.
    """
    registry.begin(
        model_id,
        family=family,
        variant=variant,
        pack_id=pack_id,
        config=config,
        model_dir=Path(models_dir) / model_id,
        tuned=tuned,
        checkpoint=(config.get("params") or {}).get("checkpoint"),
    )
    try:
        result = yield from work
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt | GeneratorExit)
        message = str(exc) if isinstance(exc, EyeVsAIError) else f"{type(exc).__name__}: {exc}"
        registry.fail(
            model_id, "interrupted" if interrupted else message, status=INTERRUPTED if interrupted else FAILED
        )
        raise
    registry.finish(result.card, result.model_dir, seconds=result.seconds)
    result.card.difficulty = registry.refresh_difficulties(pack_id).get(result.card.id)
    return result
