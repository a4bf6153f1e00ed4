"""Getting packs and their opponents from the sync server's catalog: resumable, verified, installed atomically.

```
<data>/downloads/<pack>.part/state.json          the server's manifest and the files already verified ("done")
<data>/downloads/<pack>.part/packs/<pack>/…      the download, laid out as it will be installed; a file still
<data>/downloads/<pack>.part/models/<id>/…       arriving ends in ".part" and resumes with a Range request
<data>/downloads/<pack>.json                     the receipt of an installed download: what to remove
```
Nothing reaches <data>/packs or <data>/models before every file's SHA-256 matched the manifest, the pack opened and
every model card matched its ONNX and the pack's classes (the catalog's rules, desktop.services.catalog); then each
folder is renamed into place (the pack first: a pack without opponents is skipped quietly, a model without its pack
is a problem on home). A download interrupted at any point (Cancel, a lost connection, the process killed) resumes
where it stopped; a tampered file is deleted and refused, so nothing of it is ever installed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from classifiers.card import CARD_FILE, read_card
from classifiers.errors import EyeVsAIError, ModelCardError, PackError
from classifiers.pack import PACK_FILE, open_pack

DOWNLOADS_DIR = "downloads"
STATE_FILE = "state.json"
PARTIAL = ".part"  # suffix of a pack's download folder, and of a file still arriving
KINDS = ("packs", "models")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a pack or model id that is safe as a folder name
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 256 * 1024


class DownloadError(EyeVsAIError):
    """A download that cannot go on (the server's manifest is unusable, the disk is full)."""


class TamperedDownload(DownloadError):
    """A file or model that does not match what the catalog promised; nothing of it was installed."""


class CatalogSource(Protocol):
    """The server calls a download needs (desktop.services.online.client.ServerClient has them)."""

    def catalog_manifest(self, pack_id: str) -> dict[str, Any]: ...

    def catalog_file(self, sha256: str, *, start: int = 0) -> AbstractContextManager[tuple[int, Iterator[bytes]]]:
        """(offset the body starts at: `start`, or 0 when the server sent the whole file; the body's chunks)."""
        ...


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative to the data folder: packs/<pack>/… or models/<model id>/…
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    pack_id: str
    files: tuple[ManifestFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def model_ids(self) -> list[str]:
        return sorted({PurePosixPath(f.path).parts[1] for f in self.files if f.path.startswith("models/")})

    def folders(self) -> list[str]:
        """The installed folders, relative to the data folder: the pack first."""
        return [f"packs/{self.pack_id}", *(f"models/{m}" for m in self.model_ids)]

    def to_json_obj(self) -> dict[str, Any]:
        return {"pack_id": self.pack_id, "files": [f.__dict__ for f in self.files]}

    @classmethod
    def from_json_obj(cls, obj: Any, pack_id: str) -> Manifest:
        """Check a server's manifest: every path must land inside the pack's or a model's folder.

        Raises:
            DownloadError: a malformed manifest, another pack, or a path outside those folders.
        """
        try:
            files = tuple(ManifestFile(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in obj["files"])
            manifest = cls(str(obj.get("pack_id", pack_id)), files)
        except (KeyError, TypeError, ValueError) as exc:
            raise DownloadError(f"The server's manifest for pack '{pack_id}' is malformed ({exc}).") from None
        if manifest.pack_id != pack_id or not _NAME.match(pack_id):
            raise DownloadError(f"The server sent the manifest of pack '{manifest.pack_id}' for '{pack_id}'.")
        for file in files:
            if not _is_safe(file, pack_id):
                raise DownloadError(
                    f"The server's manifest for pack '{pack_id}' names {file.path!r} ({file.sha256[:12]}…), which "
                    "is not a file of this pack or its models; the download was refused."
                )
        if f"packs/{pack_id}/{PACK_FILE}" not in {f.path for f in files}:
            raise DownloadError(f"The server's manifest for pack '{pack_id}' has no {PACK_FILE}.")
        return manifest


def _is_safe(file: ManifestFile, pack_id: str) -> bool:
    parts = PurePosixPath(file.path).parts
    if len(parts) < 3 or not _SHA256.match(file.sha256) or file.size < 0 or "\\" in file.path:
        return False
    if any(part in ("", ".", "..") or part.endswith(PARTIAL) for part in parts):
        return False
    return (parts[0] == "packs" and parts[1] == pack_id) or (parts[0] == "models" and bool(_NAME.match(parts[1])))


@dataclass(frozen=True)
class DownloadProgress:
    """How far a download is: bytes, the rate of this run and the time left."""

    done_bytes: int
    total_bytes: int
    rate_bps: float
    file: str

    @property
    def eta_s(self) -> float | None:
        left = self.total_bytes - self.done_bytes
        return left / self.rate_bps if self.rate_bps > 0 else None

    @property
    def message(self) -> str:
        eta = f", {_duration(self.eta_s)} left" if self.eta_s is not None and self.done_bytes else ""
        rate = f" at {human_size(self.rate_bps)}/s" if self.rate_bps > 0 else ""
        return f"{human_size(self.done_bytes)} of {human_size(self.total_bytes)}{rate}{eta}"


def human_size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def _duration(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    if seconds < 1:
        return "under a second"
    return f"about {seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"about {seconds} s"


@dataclass(frozen=True)
class InstalledPack:
    """A finished download: the pack and its opponents as installed."""

    pack_id: str
    folders: tuple[str, ...]
    total_bytes: int


# -- where things are ---------------------------------------------------------------------------------------------
def downloads_dir(data_dir: Path) -> Path:
    return data_dir / DOWNLOADS_DIR


def partial_dir(data_dir: Path, pack_id: str) -> Path:
    return downloads_dir(data_dir) / f"{pack_id}{PARTIAL}"


def receipt_path(data_dir: Path, pack_id: str) -> Path:
    return downloads_dir(data_dir) / f"{pack_id}.json"


def installed_downloads(data_dir: Path) -> dict[str, InstalledPack]:
    """Packs installed from the catalog (only these can be removed: the bundled pack and the trainer's stay)."""
    found = {}
    for path in sorted(downloads_dir(data_dir).glob("*.json")):
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
            found[obj["pack_id"]] = InstalledPack(obj["pack_id"], tuple(obj["folders"]), int(obj["total_bytes"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged receipt: the pack stays, as one the user put there by hand
    return found


def partial_downloads(data_dir: Path) -> dict[str, int]:
    """Downloads that stopped before the end: pack id -> bytes already here."""
    partial = {}
    for folder in sorted(downloads_dir(data_dir).glob(f"*{PARTIAL}")):
        partial[folder.name.removesuffix(PARTIAL)] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return partial


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    tmp.replace(path)  # a crash leaves the old state or the new one, never half of it


# -- downloading --------------------------------------------------------------------------------------------------
def download_pack(
    source: CatalogSource, data_dir: Path, pack_id: str, *, clock: Callable[[], float] = time.monotonic
) -> Generator[DownloadProgress, None, InstalledPack]:
    """Download, verify and install a pack and its models (see the module docstring); resumes a stopped download.

    Raises:
        ServerUnreachable: offline or cut off (what is here stays, for the next try).
        TamperedDownload: a file or model card did not match; it was deleted and nothing installed.
        DownloadError: the server's manifest is unusable, or the disk has no room.
    """
    work = partial_dir(data_dir, pack_id)
    state = _read_state(work)
    if state is None:
        manifest = Manifest.from_json_obj(source.catalog_manifest(pack_id), pack_id)
        state = {"manifest": manifest.to_json_obj(), "done": []}
        _write_json(work / STATE_FILE, state)
    manifest = Manifest.from_json_obj(state["manifest"], pack_id)
    done: set[str] = set(state["done"])
    _check_room(data_dir, manifest, done)
    started, fetched = clock(), 0
    completed = sum(f.size for f in manifest.files if f.path in done)
    for file in manifest.files:
        if file.path in done:
            continue
        for have, new in _fetch(source, work, file):
            fetched += new
            elapsed = clock() - started
            rate = fetched / elapsed if elapsed > 0 else 0.0
            yield DownloadProgress(completed + have, manifest.total_bytes, rate, file.path)
        done.add(file.path)
        completed += file.size
        _write_json(work / STATE_FILE, {**state, "done": sorted(done)})
    _verify(work, manifest)
    return _install(work, data_dir, manifest)


def _read_state(work: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((work / STATE_FILE).read_text(encoding="utf-8"))
        return state if isinstance(state.get("done"), list) and "manifest" in state else None
    except (OSError, ValueError, AttributeError):
        return None  # no download yet, or a state file cut short: start again from the server's manifest


def _check_room(data_dir: Path, manifest: Manifest, done: set[str]) -> None:
    needed = sum(f.size for f in manifest.files if f.path not in done)
    downloads_dir(data_dir).mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(downloads_dir(data_dir)).free
    if needed > free:
        raise DownloadError(
            f"Pack '{manifest.pack_id}' needs {human_size(needed)} more, but {downloads_dir(data_dir)} has only "
            f"{human_size(free)} free. Make room and try again; what is downloaded so far stays."
        )


def _fetch(source: CatalogSource, work: Path, file: ManifestFile) -> Iterator[tuple[int, int]]:
    """Bring one file into `work`, resuming its .part; yields (bytes of it here, bytes just received); verifies its
    SHA-256 at the end.

    Raises:
        TamperedDownload: the bytes do not hash to the manifest's SHA-256 (the .part is deleted).
    """
    target = work / file.path
    partial = target.with_name(target.name + PARTIAL)
    partial.parent.mkdir(parents=True, exist_ok=True)
    have = partial.stat().st_size if partial.exists() else 0
    if have > file.size:  # longer than the file can be: not a prefix of it
        partial.unlink()
        have = 0
    if have < file.size or file.size == 0:
        with source.catalog_file(file.sha256, start=have) as (offset, chunks):
            have = offset  # 0 when the server sent the whole file again
            with open(partial, "r+b" if have else "wb") as out:
                out.seek(have)
                out.truncate()
                for chunk in chunks:
                    out.write(chunk)
                    have += len(chunk)
                    yield have, len(chunk)
    actual = _sha256_of(partial)
    if actual != file.sha256:
        partial.unlink()
        raise TamperedDownload(
            f"{file.path} from the server was refused: its SHA-256 is {actual[:12]}… but the catalog says "
            f"{file.sha256[:12]}…. Nothing was installed; try again later or tell the server's operator."
        )
    partial.replace(target)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(work: Path, manifest: Manifest) -> None:
    """The catalog's rules before anything is installed: the pack opens, every image is named by its hash, every
    model card matches its ONNX and the pack. A failure discards the whole download (the server's content is
    inconsistent: resuming would only fetch it again)."""
    try:
        pack = open_pack(work / "packs" / manifest.pack_id)
        if pack.id != manifest.pack_id:
            raise PackError(f"its {PACK_FILE} says it is pack '{pack.id}'")
        for file in manifest.files:
            name = PurePosixPath(file.path)
            if name.parts[2] == "images" and name.name.split(".")[0] != file.sha256:
                raise PackError(f"image {file.path} is not named by its SHA-256")
        for model_id in manifest.model_ids:
            folder = work / "models" / model_id
            if not (folder / CARD_FILE).is_file():
                raise ModelCardError(f"model folder '{model_id}' has no {CARD_FILE}")
            card = read_card(folder)  # checks the ONNX file's SHA-256 against the card
            if card.id != model_id or card.pack_id != pack.id or list(card.classes) != pack.classes:
                raise ModelCardError(f"model '{model_id}' is not a model of pack '{pack.id}' with its classes")
    except (PackError, ModelCardError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise TamperedDownload(
            f"Pack '{manifest.pack_id}' from the server was refused: {exc}. Nothing was installed."
        ) from None


def _install(work: Path, data_dir: Path, manifest: Manifest) -> InstalledPack:
    """Rename each folder into the data folder (an older copy is moved aside first, then deleted)."""
    replaced = work / "replaced"
    for folder in manifest.folders():
        source, target = work / folder, data_dir / folder
        if not source.exists():  # moved already by an install that was interrupted
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            aside = replaced / folder
            aside.parent.mkdir(parents=True, exist_ok=True)
            target.rename(aside)
        source.rename(target)
    installed = InstalledPack(manifest.pack_id, tuple(manifest.folders()), manifest.total_bytes)
    _write_json(receipt_path(data_dir, manifest.pack_id), installed.__dict__)
    shutil.rmtree(work, ignore_errors=True)
    return installed


# -- removing -----------------------------------------------------------------------------------------------------
def discard_partial(data_dir: Path, pack_id: str) -> None:
    """Forget a download that stopped before the end."""
    shutil.rmtree(partial_dir(data_dir, pack_id), ignore_errors=True)


def remove_pack(data_dir: Path, pack_id: str) -> None:
    """Remove a pack installed from the catalog and its opponents (one rename each, so the game never sees half).

    Raises:
        DownloadError: the pack was not installed from the catalog (the bundled pack, a trainer's pack).
    """
    installed = installed_downloads(data_dir).get(pack_id)
    if installed is None:
        raise DownloadError(f"Pack '{pack_id}' was not downloaded from a server, so it cannot be removed here.")
    trash = downloads_dir(data_dir) / f"{pack_id}.removing"
    for folder in installed.folders:
        target = data_dir / folder
        if target.exists():
            (trash / folder).parent.mkdir(parents=True, exist_ok=True)
            target.rename(trash / folder)
    receipt_path(data_dir, pack_id).unlink(missing_ok=True)
    shutil.rmtree(trash, ignore_errors=True)
