"""Where ``linkage match --dask`` and the broker's runs (setting ``dask``) run the partitions
of their exhaustive comparisons.

``local:N`` starts a Dask cluster of ``N`` worker processes on this machine, listening on the
loopback interface only, without a dashboard; ``tcp://HOST:PORT`` (or ``tls://``) joins a
running Dask scheduler. The engine (:mod:`linkage.matching.candidates`) sees only a
``concurrent.futures`` executor and gives the same groups either way. The CLKs of the
partitions travel to the workers: a cluster belongs inside the same trust boundary as the
files themselves.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlparse

import numpy as np

from linkage.errors import LinkageError
from linkage.matching.candidates import brute_force_limit

CONNECT_TIMEOUT = "20s"
SCATTER_BYTES = 1 << 20


@dataclass(frozen=True)
class Cluster:
    executor: Executor
    machines: int
    """Distinct hosts among the workers: how many machines share the exhaustive comparisons."""


@contextmanager
def dask_cluster(where: str) -> Iterator[Cluster]:
    """A Dask client for ``where`` (``local:N`` or a scheduler address), closed on exit."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:   # pragma: no cover - dask is a dependency; a broken install says so
        raise LinkageError("a Dask cluster needs the 'distributed' package: pip install 'dask[distributed]'") from None
    local = _local_workers(where)
    try:
        if local is not None:
            threads = max(1, (os.cpu_count() or 1) // local)
            cluster = LocalCluster(n_workers=local, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                                   env={"LINKAGE_THREADS": str(threads)})
            client = Client(cluster)
        else:
            cluster = None
            client = Client(where, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise LinkageError(f"Dask cluster {where}: cannot reach the scheduler ({exc}); start one with "
                           "'dask scheduler' and workers with 'dask worker ADDRESS', or use local:2") from None
    try:
        workers = client.scheduler_info()["workers"]
        if not workers:
            raise LinkageError(f"Dask cluster {where}: the scheduler has no workers; start some with 'dask worker'")
        machines = len({urlparse(address).hostname for address in workers})
        yield Cluster(_Scattering(client), machines)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _Scattering(Executor):
    """Tasks on the Dask client, their arrays sent ahead (``scatter``) instead of inside the
    task graph; an array shared by all partitions (the smaller set) travels once per worker."""

    def __init__(self, client) -> None:
        self.client = client

    def submit(self, fn, /, *args, **kwargs):
        sent = [self.client.scatter(a, hash=True, broadcast=False) if _large(a) else a for a in args]
        return self.client.submit(fn, *sent, pure=False, **kwargs)


def _large(value) -> bool:
    return isinstance(value, np.ndarray) and value.nbytes >= SCATTER_BYTES


@contextmanager
def partitions(where: str | None, budget: int | None = None) -> Iterator[tuple[Executor | None, int | None]]:
    """``(executor, exhaustive_limit)`` for :func:`linkage.matching.link`: in this process
    (``where`` empty), or on the Dask cluster ``where`` with the one-machine budget times its
    machines. ``budget`` (comparisons per pair of sources) replaces the default limit."""
    if not where:
        yield None, budget
        return
    with dask_cluster(where) as cluster:
        yield cluster.executor, budget if budget is not None else brute_force_limit() * cluster.machines


def check_where(where: str) -> None:
    """Raise :class:`LinkageError` unless ``where`` is empty, ``local:N`` or a scheduler address."""
    if where:
        _local_workers(where)


def _local_workers(where: str) -> int | None:
    """``N`` of ``local:N``, or None for a scheduler address."""
    if not where.startswith("local"):
        if "://" not in where:
            raise LinkageError(f"Dask cluster {where!r} is neither local:N nor a scheduler address such as "
                               "tcp://10.0.0.5:8786")
        return None
    count = where.partition(":")[2] or "2"
    if not count.isdigit() or not 1 <= int(count) <= 64:
        raise LinkageError(f"Dask cluster {where!r}: give local:N with N worker processes from 1 to 64")
    return int(count)
