"""Served ranked variants are reproducible from their parameters; signatures verify only for the signed bytes."""

from __future__ import annotations

import base64
import hashlib

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from classifiers.attestation import public_key_id, verify_attestation
from classifiers.variants import render_variant, same_variant
from game_rules.attestation import record_bytes
from game_rules.ranked_deal import variant_for


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    return cv2.imencode(".png", pixels)[1].tobytes()


def test_a_variant_is_reproducible_and_differs_per_seed_and_from_the_original() -> None:
    image = _png(1)
    params = variant_for("11" * 32, "cafe" * 4, 1)
    served = render_variant(image, params)
    assert render_variant(image, params) == served and same_variant(served, image, params)
    other = render_variant(image, variant_for("22" * 32, "cafe" * 4, 1))
    assert len({hashlib.sha256(b).hexdigest() for b in (image, served, other)}) == 3
    assert not same_variant(other, image, params) and not same_variant(b"garbage", image, params)


def test_a_signature_verifies_for_the_record_and_its_key_only() -> None:
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    record = {"v": 1, "score": 10}
    signature = base64.b64encode(key.sign(record_bytes(record))).decode()
    assert verify_attestation(record, signature, public)
    assert not verify_attestation({"v": 1, "score": 11}, signature, public)
    assert not verify_attestation(record, signature, base64.b64encode(bytes(32)).decode())
    assert not verify_attestation(record, "not base64!", public)
    assert len(public_key_id(public)) == 16
