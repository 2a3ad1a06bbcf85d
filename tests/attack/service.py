"""Releases made in-process the way the broker makes them: the statistics service's own
``answer_request`` with one release ledger shared by every requester.

This is the only place the suite calls the defence directly (the end-to-end attack goes
through ``linkage serve``); when the service's signature changes, change it here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkage.aggregate.compute import LinkedData
from linkage.aggregate.request import validate_request
from linkage.aggregate.service import answer_request
from linkage.disclosure import DisclosureError, ReleaseLedger

from tests.attack.releases import Release, from_answer

K = 5


@dataclass(frozen=True)
class Ask:
    """One request by one requester on one run."""

    requester: str
    request: Mapping[str, Any]
    run: str = "run-1"


def ask_all(asks: Sequence[Ask], data: Mapping[str, LinkedData], ledger_path: Path
            ) -> tuple[list[Release], list[dict], int]:
    """Answer every request in turn through one ledger: the releases, the raw answers, and
    how many requests were refused."""
    releases, answers, refused = [], [], 0
    with ReleaseLedger(ledger_path) as ledger:
        for ask in asks:
            request = validate_request({"authorisation": f"AUTH-{ask.requester}", **ask.request})
            try:
                answer = answer_request(request, data[ask.run], k=K, ledger=ledger).to_dict()
            except DisclosureError:
                refused += 1
                continue
            answers.append(answer)
            releases.append(from_answer(answer, ask.requester, ask.run, k=K))
    return releases, answers, refused
