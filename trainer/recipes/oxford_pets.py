"""The Oxford-IIIT Pet dataset: 7,349 photos of 37 cat and dog breeds (or cat vs dog), from the VGG's web site.

Two archives: images.tar.gz (images/<Breed>_<n>.jpg) and annotations.tar.gz, whose annotations/list.txt maps every
image to its breed (CLASS-ID) and species (1 cat, 2 dog). Their MD5s are the ones torchvision's OxfordIIITPet
records. Images are read straight out of the archive: nothing is extracted to disk.
"""

from __future__ import annotations

import tarfile
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path, PurePosixPath

from classifiers.errors import PackError
from classifiers.progress import Progress
from trainer.download import FetchedFile, RemoteFile, fetch_file
from trainer.packs import SourceImage
from trainer.recipes.base import FetchContext, Fetched, Recipe, label_of, limit_per_class

BASE_URL = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/"
# (file name, MD5) as recorded by torchvision.datasets.OxfordIIITPet._RESOURCES
ARCHIVES = (
    ("images.tar.gz", "5c4f3ee8e5d25df40f4fd59a7f44e54c"),
    ("annotations.tar.gz", "95a8c909bbe2e81eed6a22bccdf3f68f"),
)
LIST_FILE = "annotations/list.txt"
SPECIES = {"1": "cat", "2": "dog"}
BREEDS = (
    # list.txt's CLASS-ID order; cat breeds are capitalised in the file names, dog breeds are not
    *("Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle", "Bengal"),
    *("Birman", "Bombay", "boxer", "British_Shorthair", "chihuahua", "Egyptian_Mau", "english_cocker_spaniel"),
    *("english_setter", "german_shorthaired", "great_pyrenees", "havanese", "japanese_chin", "keeshond"),
    *("leonberger", "Maine_Coon", "miniature_pinscher", "newfoundland", "Persian", "pomeranian", "pug"),
    *("Ragdoll", "Russian_Blue", "saint_bernard", "samoyed", "scottish_terrier", "shiba_inu", "Siamese"),
    *("Sphynx", "staffordshire_bull_terrier", "wheaten_terrier", "yorkshire_terrier"),
)
LICENCE = "CC BY-SA 4.0 (images: copyright of their original owners)"
CITATION = "O. M. Parkhi, A. Vedaldi, A. Zisserman, C. V. Jawahar. Cats and Dogs. IEEE CVPR 2012."
SOURCE = "https://www.robots.ox.ac.uk/~vgg/data/pets/"


def remote_files(base_url: str | None) -> list[RemoteFile]:
    base = (base_url or BASE_URL).rstrip("/") + "/"
    return [RemoteFile(name, base + name, md5=md5) for name, md5 in ARCHIVES]


def read_listing(annotations: Path) -> dict[str, tuple[str, str]]:
    """image id -> (raw breed name, species id) from annotations/list.txt inside the archive.

    Raises:
        PackError: the archive holds no list.txt, or a line of it is malformed.
    """
    try:
        with tarfile.open(annotations, "r:gz") as tar:
            member = tar.extractfile(LIST_FILE)
            text = member.read().decode("utf-8") if member else ""
    except (KeyError, tarfile.TarError) as exc:
        raise PackError(f"{annotations} holds no readable {LIST_FILE} ({exc}); delete it and fetch again.") from exc
    listing: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 3 or fields[2] not in SPECIES:
            raise PackError(f"{LIST_FILE} line {number} is not 'IMAGE CLASS-ID SPECIES BREED-ID': {line!r}")
        listing[fields[0]] = (fields[0].rsplit("_", 1)[0], fields[2])
    return listing


def _iter_archive(images: Path, labels: dict[str, str], skipped: Counter[str]) -> Iterator[SourceImage | str]:
    """The labelled JPEGs of images.tar.gz, read in archive order (a gzip stream reads forwards only)."""
    with tarfile.open(images, "r:gz") as tar:
        for member in tar:
            path = PurePosixPath(member.name)
            if not member.isfile() or path.suffix.lower() != ".jpg":
                continue
            if path.stem not in labels:
                skipped["unlisted"] += 1  # a few images have no line in list.txt: their class is unknown
                continue
            data = tar.extractfile(member)
            if data is None:  # pragma: no cover - a regular member always has a body
                yield f"{images.name}:{member.name}: unreadable"
                continue
            yield SourceImage(data.read(), labels[path.stem], f"{images.name}:{member.name}")


def _fetch(ctx: FetchContext, by_species: bool) -> Generator[Progress, None, Fetched]:
    fetched: dict[str, FetchedFile] = {}
    for remote in remote_files(ctx.base_url):
        fetched[remote.name] = yield from fetch_file(remote, ctx.downloads_dir / "oxford-iiit-pet" / remote.name)
    listing = read_listing(fetched["annotations.tar.gz"].path)
    if by_species:
        mapping = dict(SPECIES)
        labels = {image_id: SPECIES[species] for image_id, (_, species) in listing.items()}
    else:
        mapping = {raw: label_of(raw) for raw, _ in sorted(set(listing.values()))}
        labels = {image_id: mapping[raw] for image_id, (raw, _) in listing.items()}
    per_class = Counter(labels.values())
    total = sum(min(n, ctx.limit) if ctx.limit else n for n in per_class.values())
    skipped: Counter[str] = Counter()
    manifest = {
        "archives": [
            {
                "name": f.path.name,
                "url": r.url,
                "bytes": f.size,
                "md5": f.md5,
                "sha256": f.sha256,
                "expected_md5": r.md5,
            }
            for r, f in ((r, fetched[r.name]) for r in remote_files(ctx.base_url))
        ],
        "class_mapping": {"by": "species id" if by_species else "breed", "labels": mapping},
        "skipped": skipped,  # filled while the pack is built
    }
    images = limit_per_class(_iter_archive(fetched["images.tar.gz"].path, labels, skipped), ctx.limit)
    return Fetched(images, total, manifest)


def _fetch_breeds(ctx: FetchContext) -> Generator[Progress, None, Fetched]:
    return _fetch(ctx, by_species=False)


def _fetch_species(ctx: FetchContext) -> Generator[Progress, None, Fetched]:
    return _fetch(ctx, by_species=True)


OXFORD_PETS = Recipe(
    name="oxford-pets",
    title="Oxford-IIIT Pets (37 breeds)",
    source=SOURCE,
    licence=LICENCE,
    citation=CITATION,
    size="811 MB download, 7,349 images",
    default_id="oxford-pets",
    classes=tuple(label_of(b) for b in BREEDS),
    fetch=_fetch_breeds,
)
OXFORD_PETS_CATDOG = Recipe(
    name="oxford-pets-catdog",
    title="Oxford-IIIT Pets: cat or dog",
    source=SOURCE,
    licence=LICENCE,
    citation=CITATION,
    size="811 MB download, 7,349 images",
    default_id="cats-dogs",
    classes=("cat", "dog"),
    fetch=_fetch_species,
)
