"""The open dataset of human labels: a versioned export of a pack's ranked crowd aggregates, with its datasheet.

`eyevsai-server export-human-labels --pack ID` writes `<out>/<version>/` with `human_labels.jsonl` (one image a
line), `schema.json` (JSON Schema of a line), `datasheet.md` and `manifest.json`; the server serves the newest
version under `<data_dir>/exports/human-labels/<pack>/`. Only ranked judgements (dealt and timed by the server)
and only images with at least the minimum number of distinct players are exported; nothing about any player.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.errors import EyeVsAIError
from sync_server.crowd import RANKED
from sync_server.crowd_stats import histogram_quantiles
from sync_server.models import CrowdImage, CrowdOption, CrowdTime
from sync_server.models import Pack as PackRow

FORMAT_VERSION = 1
LICENCE = "CC-BY-4.0"
DATA_FILE, SCHEMA_FILE, DATASHEET_FILE, MANIFEST_FILE = (
    "human_labels.jsonl",
    "schema.json",
    "datasheet.md",
    "manifest.json",
)
FILES = (DATA_FILE, SCHEMA_FILE, DATASHEET_FILE)
_QUANTILE_KEYS = {0.1: "p10", 0.25: "p25", 0.5: "p50", 0.75: "p75", 0.9: "p90"}

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://eyevsai.org/schemas/human-labels-v1.json",
    "title": "EyeVsAI human label record (one image)",
    "type": "object",
    "additionalProperties": False,
    "required": ["image_sha256", "label", "players", "timeouts", "correct", "answer_counts", "shown_counts", "time_ms"],
    "properties": {
        "image_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the pack image."},
        "label": {"type": "string", "description": "The pack's label of the image (the ground truth)."},
        "players": {"type": "integer", "minimum": 1, "description": "Distinct players counted (one judgement each)."},
        "timeouts": {"type": "integer", "minimum": 0, "description": "Judgements that ran out of time."},
        "correct": {"type": "integer", "minimum": 0, "description": "Judgements equal to the label."},
        "answer_counts": {**_COUNTS, "description": "How often each option was chosen."},
        "shown_counts": {**_COUNTS, "description": "How often each label was among the options shown."},
        "time_ms": {
            "type": ["object", "null"],
            "description": "Answer-time quantiles in ms (100 ms resolution below 10 s); null if all timed out.",
            "properties": {k: {"type": "integer", "minimum": 0} for k in _QUANTILE_KEYS.values()},
        },
    },
}


class ExportError(EyeVsAIError):
    """No export can be written (unknown pack) or served (none written yet)."""


def _records(session: Session, pack_id: str, min_players: int) -> list[dict[str, Any]]:
    where = (CrowdImage.pack_id == pack_id, CrowdImage.source == RANKED, CrowdImage.players >= min_players)
    images = list(session.scalars(select(CrowdImage).where(*where).order_by(CrowdImage.image_sha256)))
    options: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for image, option, shown, chosen in session.execute(
        select(CrowdOption.image_sha256, CrowdOption.option, CrowdOption.shown, CrowdOption.chosen).where(
            CrowdOption.pack_id == pack_id, CrowdOption.source == RANKED
        )
    ):
        options[image][option] = (shown, chosen)
    times: dict[str, dict[int, int]] = defaultdict(dict)
    for image, bin_ms, count in session.execute(
        select(CrowdTime.image_sha256, CrowdTime.bin_ms, CrowdTime.count).where(
            CrowdTime.pack_id == pack_id, CrowdTime.source == RANKED
        )
    ):
        times[image][bin_ms] = count
    records = []
    for row in images:
        quantiles = histogram_quantiles(times.get(row.image_sha256, {}), tuple(_QUANTILE_KEYS))
        opts = options.get(row.image_sha256, {})
        records.append(
            {
                "image_sha256": row.image_sha256,
                "label": row.label,
                "players": row.players,
                "timeouts": row.timeouts,
                "correct": row.correct,
                "answer_counts": {o: c for o, (_s, c) in sorted(opts.items()) if c},
                "shown_counts": {o: s for o, (s, _c) in sorted(opts.items())},
                "time_ms": None if quantiles is None else {_QUANTILE_KEYS[q]: v for q, v in quantiles.items()},
            }
        )
    return records


def _datasheet(pack: PackRow, manifest: dict[str, Any]) -> str:
    return f"""# EyeVsAI human labels: {pack.title} (`{pack.id}`), version {manifest["version"]}

## Motivation
Per-image human judgements collected by the EyeVsAI game, in the spirit of CIFAR-10H: a distribution of human
answers for each image, for research on human uncertainty and on where people and classifiers disagree.

## Composition
- {manifest["images"]} images of the pack's ranked set, one JSON object a line (`{DATA_FILE}`, schema `{SCHEMA_FILE}`).
- Per image: the pack's label, the number of distinct players, time-outs, correct answers, how often each option
  was chosen and shown, and answer-time quantiles.
- No information about any player is included.

## Collection
- Ranked rounds only: the server dealt each image (as a per-session variant: a small random crop, scale,
  contrast and brightness change, and noise, folded back into the original image), showed a set of options
  (the label and others drawn from the pack's classes), and timed the answer itself
  ({manifest["seconds_per_round"]} s per round at export time; a late answer counts as a time-out).
- Each player's FIRST judgement of an image is the only one counted.
- Sessions held for review (machine-speed answers or implausible scores) are excluded unless an operator approved
  them; offline (self-reported) rounds are not part of this dataset.

## Filters and the minimum-count rule
Only images judged by at least {manifest["min_players"]} distinct players are included.

## Uses and limits
Players see between 2 and the pack's number of options, not always every class; read `answer_counts` together
with `shown_counts`. Players are volunteers playing a timed game, not a controlled sample.

## Licence
The aggregates are released under {LICENCE} (https://creativecommons.org/licenses/by/4.0/). The images themselves
keep the licence of the pack: {pack.title}.
"""


def export_human_labels(
    *, session: Session, pack_id: str, out_dir: Path, min_players: int, seconds_per_round: float, now: dt.datetime
) -> Path:
    """Write a new version of the pack's human-label dataset under `out_dir`; returns the version's folder.

    Raises:
        ExportError: the server does not know the pack.
    """
    pack = session.get(PackRow, pack_id)
    if pack is None:
        raise ExportError(f"Pack {pack_id!r} is not on this server; import it with `eyevsai-server import-pack`.")
    records = _records(session, pack_id, min_players)
    version = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    folder = out_dir / version
    folder.mkdir(parents=True, exist_ok=False)
    manifest = {
        "format_version": FORMAT_VERSION,
        "pack_id": pack_id,
        "version": version,
        "created_at": now.astimezone(dt.UTC).isoformat(),
        "images": len(records),
        "min_players": min_players,
        "seconds_per_round": seconds_per_round,
        "licence": LICENCE,
        "files": list(FILES),
    }
    lines = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    (folder / DATA_FILE).write_text(lines, encoding="utf-8")
    (folder / SCHEMA_FILE).write_text(json.dumps(RECORD_SCHEMA, indent=1) + "\n", encoding="utf-8")
    (folder / DATASHEET_FILE).write_text(_datasheet(pack, manifest), encoding="utf-8")
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")  # last: complete
    return folder


def exports_dir(data_dir: Path, pack_id: str) -> Path:
    """Where the server keeps (and serves) a pack's exports by default."""
    return data_dir / "exports" / "human-labels" / pack_id


def latest_export(data_dir: Path, pack_id: str) -> tuple[Path, dict[str, Any]] | None:
    """The newest complete export of a pack (its folder and manifest), or None."""
    root = exports_dir(data_dir, pack_id)
    if not root.is_dir():
        return None
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        try:
            return folder, json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written, or damaged: the previous one is still good
    return None
