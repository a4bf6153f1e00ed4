"""Checking a server-attested ranked record's Ed25519 signature (docs/design.md §5 and §6).

The record's shape and canonical bytes are `game_rules.attestation`; this module adds the one thing that needs
the `cryptography` package: the signature check, used by the game at the end of a ranked session and by
`eyevsai verify`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from classifiers.errors import EyeVsAIError
from game_rules.attestation import key_id, record_bytes

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class AttestationError(EyeVsAIError):
    """A public key or signature that is not valid base64 of the right length."""


def decode_b64(text: str, size: int, what: str) -> bytes:
    """Strict base64 of exactly `size` bytes.

    Raises:
        AttestationError: not base64, or another length.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise AttestationError(f"The {what} is not base64.") from None
    if len(raw) != size:
        raise AttestationError(f"The {what} is {len(raw)} bytes, expected {size}.")
    return raw


def public_key_id(public_key_b64: str) -> str:
    """The key id (game_rules.attestation.key_id) of a base64 Ed25519 public key.

    Raises:
        AttestationError: not a base64 32-byte key.
    """
    return key_id(decode_b64(public_key_b64, PUBLIC_KEY_BYTES, "public key"))


def verify_attestation(record: Mapping[str, Any], signature: str, public_key: str) -> bool:
    """True when `signature` (base64) is the Ed25519 signature of the record's canonical bytes under `public_key`
    (base64 of the 32 raw bytes). A malformed key or signature is False, never an exception."""
    try:
        key = Ed25519PublicKey.from_public_bytes(decode_b64(public_key, PUBLIC_KEY_BYTES, "public key"))
        key.verify(decode_b64(signature, SIGNATURE_BYTES, "signature"), record_bytes(record))
    except (AttestationError, InvalidSignature, ValueError, TypeError):
        return False
    return True
