"""The server's Ed25519 key that signs ranked session records (docs/design.md §5, §6).

Made on the first start in the data directory (`ranked_signing_key`, raw 32-byte seed, mode 0600) and refused
when group or others can read it: whoever reads it can sign results as this server.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from classifiers.errors import EyeVsAIError
from game_rules.attestation import ALGORITHM, key_id, record_bytes

KEY_FILE = "ranked_signing_key"
SEED_BYTES = 32


class SigningKeyError(EyeVsAIError):
    """The signing key file is unsafe or unreadable: the server refuses to start."""


class Signer:
    """Signs ranked records; thread-safe (the key is immutable)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(self.public_key)

    def public(self) -> dict[str, str]:
        """What `GET /ranked/public-key` answers."""
        return {
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
        }

    def sign(self, record: dict[str, Any]) -> str:
        """Base64 of the Ed25519 signature of the record's canonical bytes."""
        return base64.b64encode(self._key.sign(record_bytes(record))).decode("ascii")


def _create(path: Path) -> None:
    # Written aside, then linked into place: several workers starting together agree on one key.
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(SEED_BYTES))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def load_signer(data_dir: Path) -> Signer:
    """The server's signer, making its key on the first start.

    Raises:
        SigningKeyError: the key file is readable by group or others, or is not a 32-byte key.
    """
    path = data_dir / KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            _create(path)
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SigningKeyError(
                f"The ranked signing key {path} is readable by other users (mode {stat.filemode(mode)}); anyone "
                f"who reads it can sign results as this server. Run `chmod 600 {path}` (and replace the key if "
                "it may have leaked), then start again."
            )
        seed = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"Cannot read or create the ranked signing key {path}: {exc}.") from exc
    if len(seed) != SEED_BYTES:
        raise SigningKeyError(f"The ranked signing key {path} is {len(seed)} bytes, not {SEED_BYTES}; restore it.")
    return Signer(Ed25519PrivateKey.from_private_bytes(seed))
