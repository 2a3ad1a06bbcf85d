"""Fixtures of the attack suite: the population of ``tests.attack.population`` in two linkage
runs, built once per session."""

from __future__ import annotations

import pytest

from linkage.aggregate.compute import LinkedData

from tests.attack.population import attack_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, LinkedData]:
    return attack_runs(tmp_path_factory.mktemp("attack-population"))
