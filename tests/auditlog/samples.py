"""Realistic audit-log entries (no personal data), shared by the tests and the benchmark."""

import hashlib

from linkage.auditlog import (
    policy_entry,
    refusal_entry,
    request_entry,
    run_entry,
    upload_entry,
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sample_entry(i: int) -> dict:
    """A realistic entry of each type in turn (no personal data)."""
    kind = i % 5
    if kind == 0:
        return upload_entry("vdab", "vdab", sha(f"extract {i}"), 1000 + i, i % 10 != 0,
                            "accepted" if i % 10 else "schema fingerprint differs")
    if kind == 1:
        return run_entry(f"run-{i}", {"threshold": 0.85, "blocking": "lsh"},
                         {"match_rate": {"ksz-vdab": 0.93}, "histogram": [1, 5, 20]})
    if kind == 2:
        granted = i % 4 != 0
        return request_entry(
            "statistics", f"ISC/24/{i % 3:03d}",
            {"cohort": "vdab_jobseekers_2023", "measures": ["persons"],
             "dimensions": ["origin:sem/sem_regions", "sex"]},
            "granted" if granted else "refused",
            "within authorisation" if granted else "dimension not authorised",
            table_hash=sha(f"table {i}") if granted else None,
            suppressed={"primary": 3, "secondary": 4} if granted else {},
        )
    if kind == 3:
        return refusal_entry("aggregate", "unknown-org", "no client certificate for this service")
    return policy_entry(sha(f"policy {i}"), "policy loaded at start-up")
