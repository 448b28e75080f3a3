"""Scale-out: work on partitions in parallel, in processes of this machine or on a Dask cluster.

Each partition is decided by ``ops.run.decide_partition`` in a Dask worker
process; the workers read and write the run's work folder, so on a real cluster that folder
(``--out``) must be on storage every worker sees (NFS, a shared volume) and every worker
needs the same expunge version installed. Partitions hold whole cases and the people index
is read from the work folder, so the decided files are the same whichever worker decides
them: the outputs equal a local run's (a test checks ``charges/``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed, wait
from contextlib import contextmanager, suppress
from typing import Any

#: Called with an item's index and result as it finishes.
OnDone = Callable[[int, Any], None]


def map_on_dask(fn: Callable[..., Any], plan: Any, parts: Sequence[list[str]], address: str | None = None,
                workers: int = 2, on_done: OnDone | None = None) -> list[Any]:
    """``fn(plan, k, parts[k])`` for every partition on the cluster at ``address`` (a
    ``LocalCluster`` of ``workers`` processes when None); results in partition order.
    ``on_done(k, result)`` is called here as each partition finishes."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        address = cluster.scheduler_address
    try:
        with Client(address) as client:
            futures = [client.submit(fn, plan, k, list(p), key=f"decide-{plan.run_id}-{k}", pure=False)
                       for k, p in enumerate(parts)]
            if on_done is not None:
                index = {f.key: k for k, f in enumerate(futures)}
                for future in as_completed(futures):
                    on_done(index[future.key], future.result())
            return list(client.gather(futures))
    finally:
        if cluster is not None:
            cluster.close()


def _die_with_parent() -> None:
    """On Linux, a worker is killed when the run that started it dies (a run killed mid-way
    must not leave workers writing into the work folder its re-run is clearing)."""
    import ctypes
    import signal

    with suppress(OSError, AttributeError):  # not Linux: workers end after their current task
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


@contextmanager
def _processes(workers: int) -> Iterator[Any]:
    """A pool of fresh ("spawn") worker processes; a worker that dies is reported plainly."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_die_with_parent) as pool:
            yield pool
    except BrokenProcessPool as exc:
        raise RuntimeError(
            f"a worker process stopped before finishing ({exc}): the machine may have run out of memory, or a "
            "Python script calls the pipeline without 'if __name__ == \"__main__\":'. Run again with one worker "
            "(--workers 1), which decides in this process.") from exc


def map_local(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]], workers: int = 1,
              on_done: OnDone | None = None) -> list[Any]:
    """``fn(*a)`` for every ``a`` in ``args``, in up to ``workers`` processes of this machine
    (here, one after another, when ``workers`` is 1 or there is one item); results in order.
    ``on_done(i, result)`` is called in this process as each item finishes (in the order they
    finish: a progress display ticks).

    Worker processes are started fresh ("spawn"), never forked from a process that may run
    threads (Prefect's, pyarrow's); each keeps what it caches (the people index) across the
    items it is given. As with any Python program using processes, a script calling the
    pipeline must do so under ``if __name__ == "__main__":`` (each worker imports the script).

    Raises:
        RuntimeError: a worker process died (out of memory, or the script guard missing).
    """
    tick = on_done or _no_tick
    workers = max(1, min(workers, len(args)))
    if workers == 1:
        results = []
        for i, a in enumerate(args):
            results.append(fn(*a))
            tick(i, results[-1])
        return results
    with _processes(workers) as pool:
        futures = [pool.submit(fn, *a) for a in args]
        index = {f: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures):
                if future.exception() is None:
                    tick(index[future], future.result())
                else:  # as pool.map: stop, and raise the error of the first item that failed
                    break
        finally:
            for f in futures:
                f.cancel()
        wait(futures)
        return [f.result() for f in futures]


def _no_tick(i: int, result: Any) -> None:
    pass


def run_apart(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in one fresh process, so that what it builds (and what the memory
    allocators keep afterwards) never stays in this long-lived one; the result is pickled back."""
    with _processes(1) as pool:
        return pool.submit(fn, *args).result()
