"""Pipeline jobs claimed from the model registry, so that several pipelines (on several machines) share one plan.

Each job has a row in the registry's `pipeline_jobs` table. A pipeline runs a job only after claiming it: one
transaction that locks the row (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` makes
the transaction the only writer) and finds it free, ended before this pipeline started, or held by a lease that ran
out. A claim is a lease: its holder renews it while the job runs (`renew`, every few seconds), so a machine that
is killed or cut off stops renewing, and once `lease_s` seconds have passed another pipeline takes the job over,
marks the dead run interrupted and starts it again (a deep job resumes from its checkpoint in the shared folder).
A claim whose holder ran on this host and whose process is gone is taken over at once (a re-run after a kill).
A job is never run twice at once: a claim is only taken over after its lease expired.

Times are unix seconds from each machine's clock; keep the clocks in sync (NTP) and the lease well above the skew.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from trainer.model_registry import DONE, FAILED, HOST, INTERRUPTED, RUNNING, ModelRegistry, is_alive, now
from trainer.pipeline.plan import Job
from trainer.registry_database import tables, transaction

FREE = "free"
DEFAULT_LEASE_S = 60.0


@dataclass(frozen=True)
class Verdict:
    """What a claim attempt found.

    outcome: "claimed" (run it), "held" (another pipeline runs it now: try again later), "done" or "failed" (another
    pipeline ended it after this one started: do not run it again). model_id: the model of that other run, if any;
    for "claimed", the run whose lease this claim took over (now interrupted), if any. owner: who holds or held it.
    """

    outcome: str
    model_id: str | None = None
    owner: str | None = None


class JobClaims:
    """The claims of one pipeline process (owner `host:pid`) on a registry."""

    def __init__(self, registry: ModelRegistry, *, lease_s: float = DEFAULT_LEASE_S, since: float | None = None):
        self.registry, self.lease_s = registry, lease_s
        self.since = time.time() if since is None else since
        self.owner = f"{HOST}:{os.getpid()}"
        self.jobs = tables()[1]

    def claim(self, job: Job, model_id: str) -> Verdict:
        """Try to claim `job` for a run that will record itself as `model_id`."""
        import sqlalchemy as sa  # lazy: sqlalchemy

        at = time.time()
        with transaction(self.registry.engine) as connection:
            connection.execute(_insert_if_missing(connection, self.jobs, {"key": job.key, "state": FREE}))
            query = sa.select(self.jobs).where(self.jobs.c.key == job.key).with_for_update(skip_locked=True)
            row = connection.execute(query).mappings().first()
            if row is None:  # another pipeline is claiming it at this very moment
                return Verdict("held")
            verdict = self._verdict(connection, row, at)
            if verdict is not None:
                return verdict
            stale = row["model_id"] if row["state"] == RUNNING else None
            connection.execute(
                self.jobs.update()
                .where(self.jobs.c.key == job.key)
                .values(
                    state=RUNNING,
                    owner=self.owner,
                    model_id=model_id,
                    lease_expires=at + self.lease_s,
                    claimed=at,
                    ended=None,
                    attempts=(row["attempts"] or 0) + 1,
                )
            )
            if stale:  # its pipeline stopped renewing: that run is over
                models = self.registry.models
                connection.execute(
                    models.update()
                    .where(models.c.id == stale, models.c.status == RUNNING)
                    .values(
                        status=INTERRUPTED,
                        error=f"interrupted: the pipeline {row['owner']} stopped renewing its claim",
                        finished=now(),
                    )
                )
            return Verdict("claimed", stale, row["owner"] if stale else None)

    def _verdict(self, connection: Any, row: Any, at: float) -> Verdict | None:
        """Why the locked row cannot be claimed now, or None when it can."""
        state, owner, model_id = row["state"], row["owner"], row["model_id"]
        if state == RUNNING and (row["lease_expires"] or 0) > at and not _is_gone_here(owner):
            return Verdict("held", model_id, owner)
        if state in (DONE, FAILED) and (row["ended"] or 0) >= self.since:
            return Verdict(state, model_id, owner)
        if state == RUNNING and model_id:  # a lapsed claim whose run may have finished before it could say so
            models = self.registry.models
            status = connection.execute(_status_query(models, model_id)).scalar()
            if status == DONE:
                self._end(connection, row["key"], DONE, owner=owner, at=at)
                return Verdict(DONE, model_id, owner)
        return None

    def renew(self, keys: list[str]) -> list[str]:
        """Extend the leases of these running jobs; return those this pipeline no longer holds (taken over)."""
        if not keys:
            return []
        with transaction(self.registry.engine) as connection:
            connection.execute(
                self.jobs.update()
                .where(self.jobs.c.key.in_(keys), self.jobs.c.owner == self.owner, self.jobs.c.state == RUNNING)
                .values(lease_expires=time.time() + self.lease_s)
            )
            held = connection.execute(
                self.jobs.select().where(
                    self.jobs.c.key.in_(keys), self.jobs.c.owner == self.owner, self.jobs.c.state == RUNNING
                )
            ).mappings()
            kept = {row["key"] for row in held}
        return [key for key in keys if key not in kept]

    def release(self, job: Job, state: str) -> None:
        """The job ended here: done, failed, or interrupted (claimable again at once)."""
        with transaction(self.registry.engine) as connection:
            self._end(connection, job.key, state, owner=self.owner, at=time.time())

    def _end(self, connection: Any, key: str, state: str, *, owner: str | None, at: float) -> None:
        connection.execute(
            self.jobs.update()
            .where(self.jobs.c.key == key, self.jobs.c.owner == owner)
            .values(state=state, ended=at, lease_expires=None)
        )


def _is_gone_here(owner: str | None) -> bool:
    """Whether a claim's owner ran on this host and its process ended: no need to wait for its lease then."""
    host, _, pid = (owner or "").rpartition(":")
    return host == HOST and pid.isdigit() and not is_alive(int(pid))


def _status_query(models: Any, model_id: str) -> Any:
    import sqlalchemy as sa  # lazy: sqlalchemy

    return sa.select(models.c.status).where(models.c.id == model_id)


def _insert_if_missing(connection: Any, table: Any, values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the connection's dialect (both SQLite and PostgreSQL have it)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # lazy: sqlalchemy
    else:
        from sqlalchemy.dialects.sqlite import insert  # lazy: sqlalchemy
    return insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
