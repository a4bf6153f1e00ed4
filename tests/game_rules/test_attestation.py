"""The attested ranked record (docs/design.md §5): canonical bytes, key id, and the shape checks a verifier makes."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib

from game_rules.attestation import key_id, record_bytes, record_problems, round_entry, session_record
from game_rules.commitment import RoundRecord

SESSION, MODEL = "6f1c0d2e-0000-4000-8000-000000000001", "ab" * 32
T0 = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)


def _record(rounds: int = 3) -> dict:
    entries = []
    for n in range(1, rounds + 1):
        ai = RoundRecord(SESSION, n, f"{n:064x}", MODEL, ("a", "b", "c"), "a", 700, "5a" * 32)
        entries.append(
            round_entry(ai_record=ai, answer="a", elapsed_ms=1500, points=15, truth="a", commitment=ai.commitment())
        )
    return session_record(
        session=SESSION,
        player="p-1",
        pack="fashion-mnist",
        model=MODEL,
        difficulty="easy",
        server_seed="11" * 32,
        server_seed_hash=hashlib.sha256(("11" * 32).encode()).hexdigest(),
        client_seed="cafe" * 4,
        started_at=T0,
        finished_at=T0 + dt.timedelta(minutes=1),
        status="finished",
        rounds=entries,
        score=15 * rounds,
        correct=rounds,
        ai_correct=rounds,
    )


def test_a_record_is_canonical_json_and_well_formed() -> None:
    record = _record()
    assert record_problems(record) == []
    assert record_bytes(record).startswith(b'{"ai_correct":3,"client_seed":"cafecafecafecafe",')
    assert record["finished_at"] == "2026-11-18T12:01:00.000+00:00"
    assert key_id(bytes(32)) == hashlib.sha256(bytes(32)).hexdigest()[:16]


def test_spliced_dropped_extended_or_versioned_records_are_refused() -> None:
    record = _record()
    for change, complaint in (
        (lambda r: r.update(extra=1), "keys differ"),
        (lambda r: r.update(v=2), "version 1"),
        (lambda r: r.pop("v"), "keys differ"),
        (lambda r: r["rounds"].pop(1), "numbered"),
        (lambda r: r["rounds"][0]["ai_record"].update(session="other"), "hash to its commitment"),
        (lambda r: r.update(score=999), "totals"),
        (lambda r: r["rounds"][0].update(truth="z"), "not one of the options"),
    ):
        forged = copy.deepcopy(record)
        change(forged)
        problems = record_problems(forged)
        assert problems and complaint in " ".join(problems), (complaint, problems)
