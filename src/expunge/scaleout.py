"""Scale-out: decide partitions in parallel on a Dask cluster.

Stage: decide. Each partition is decided by ``pipeline.decide_partition`` in a Dask worker
process; the workers read and write the run's work folder, so on a real cluster that folder
(``--out``) must be on storage every worker sees (NFS, a shared volume) and every worker
needs the same expunge version installed. Partitions hold whole cases and the people index
is read from the work folder, so the decided files are the same whichever worker decides
them: the outputs equal a local run's (a test checks ``charges/``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def map_on_dask(fn: Callable[..., str], plan: Any, parts: Sequence[list[str]], address: str | None = None,
                workers: int = 2) -> list[str]:
    """``fn(plan, k, parts[k])`` for every partition on the cluster at ``address`` (a
    ``LocalCluster`` of ``workers`` processes when None); results in partition order."""
    from distributed import Client, LocalCluster

    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        address = cluster.scheduler_address
    try:
        with Client(address) as client:
            futures = [client.submit(fn, plan, k, list(p), key=f"decide-{plan.run_id}-{k}", pure=False)
                       for k, p in enumerate(parts)]
            return list(client.gather(futures))
    finally:
        if cluster is not None:
            cluster.close()
