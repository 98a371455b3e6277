"""Where a table's rows run: one after another in this process, in a local process pool
(``jobs``), or as tasks on a Dask cluster (``scheduler``: ``"local"`` for a `LocalCluster`
sized to this machine, or the address of a running scheduler).

Every way writes the same atomic per-row record (``rows/<table>--<tag>--<id>--seed<s>.json``)
as each row finishes, logs rows done / left with an estimate of the time left, records a
failed row and goes on, and on Ctrl-C cancels what has not finished (it runs again on
resume). On Dask the records are written by the client, so only the data and the cache
(``BKI_LAB_DATA``, ``BKI_LAB_CACHE``) must be on a filesystem the workers see.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from bki_lab.bki.verdict import VERDICT_VERSION
from bki_lab.utils.progress import Progress
from bki_lab.utils.records import write_json


def describe_device(device: str) -> str:
    """The device a row ran on, in words (records say which rows ran where)."""
    import torch
    if device.startswith("cuda"):
        return f"cuda ({torch.cuda.get_device_name(torch.device(device))})"
    return f"cpu ({torch.get_num_threads()} threads)"


def experiment_digest(row, profile: str, seed: int, recipe: str) -> str:
    """A digest of everything the row's victim is made from (data sizes, poisoning, training
    settings): a record whose digest differs from the row's now was made by another
    profile or recipe and runs again."""
    from bki_lab.pipeline.cache import cache_key
    cfg = row.config(profile=profile, seed=seed, recipe=recipe)
    return cache_key("experiment", asdict(cfg))


def _record(row, profile: str, seed: int, recipe: str) -> dict:
    return {"id": row.id, "seed": seed, "profile": profile, "recipe": recipe, "row": asdict(row),
            "verdict_version": VERDICT_VERSION,
            "experiment": experiment_digest(row, profile, seed, recipe)}


def compute_row(row, profile: str, seed: int, run: Callable, threads: int | None = None,
                recipe: str = "bki-lab") -> dict:
    """One row's record: ``run(row, profile=, seed=, recipe=)``, or the error it raised."""
    if threads is not None:      # parallel workers share the cores: oversubscribed OpenMP
        import torch  # threads slow torch down by an order of magnitude
        torch.set_num_threads(threads)
    rec = _record(row, profile, seed, recipe)
    try:
        rec.update(status="ok", **run(row, profile=profile, seed=seed, recipe=recipe))
    except Exception as e:  # a failed row is reported, the others go on
        rec.update(status="failed", error=f"{type(e).__name__}: {e}",
                   traceback=traceback.format_exc())
    return rec


def _work(row, profile, seed, path, run, threads=None, recipe="bki-lab"):
    rec = compute_row(row, profile, seed, run, threads, recipe)
    write_json(Path(path), rec)
    return row.id, seed, rec


def run_serial(todo, profile, run, recipe, log) -> None:
    bar = Progress(len(todo), log)
    for r, s, p in todo:
        bar.finished(*_work(r, profile, s, str(p), run, None, recipe))


def _ignore_sigint() -> None:
    # workers leave Ctrl-C to the parent, which cancels the queue and ends them
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_pool(todo, jobs, profile, run, recipe, log, device: str = "cpu") -> None:
    """Rows in ``jobs`` processes. Ctrl-C: queued rows never start, running workers are
    ended at once (their rows run again on resume), and KeyboardInterrupt is re-raised.
    CUDA workers are spawned, not forked (a forked child cannot use CUDA)."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn" if device.startswith("cuda") else None)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_sigint)
    bar = Progress(len(todo), log)
    try:
        futures = [pool.submit(_work, r, profile, s, str(p), run, threads, recipe)
                   for r, s, p in todo]
        for f in as_completed(futures):
            bar.finished(*f.result())
    except KeyboardInterrupt:
        log("interrupted: cancelling the queued rows and ending the workers")
        workers = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for w in workers:
            w.terminate()
        for w in workers:
            w.join(5)
        raise
    pool.shutdown()


def _sees_data() -> tuple[str, bool]:
    from bki_lab.data.datasets import data_dir
    d = data_dir()
    return str(d), d.is_dir() and any(d.iterdir())


def _set_threads(n: int) -> None:
    import torch
    torch.set_num_threads(n)


def open_client(scheduler: str, *, processes: bool = True, n_workers: int | None = None):
    """A Dask client: ``"local"`` starts a `LocalCluster` of one-thread workers, one per core
    (``processes=False``: threads in this process, for tests); anything else is a running
    scheduler's address. Returns (client, cluster or None)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise RuntimeError("--scheduler needs Dask: pip install 'bki_lab[cluster]'") from e
    if scheduler == "local":
        cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=processes, dashboard_address=":0")
        return Client(cluster), cluster
    return Client(scheduler), None


def prepare_workers(client, log: Callable[[str], None] = print) -> None:
    """Check that every worker sees the data, and give each worker process its share of its
    host's cores as torch threads. Raises `datasets.DataError` naming the workers that do not."""
    from bki_lab.data.datasets import DataError
    seen = client.run(_sees_data)
    blind = {w: d for w, (d, ok) in seen.items() if not ok}
    if not seen:
        raise RuntimeError("the Dask cluster has no workers")
    if blind:
        raise DataError("these Dask workers cannot see the data: "
                        + "; ".join(f"{w} looked in {d}" for w, d in sorted(blind.items()))
                        + ". Put the data (and the cache) on a filesystem every worker sees and "
                          "set BKI_LAB_DATA (and BKI_LAB_CACHE) in the workers' environment.")
    info = client.scheduler_info()["workers"]
    cpus, pids = client.run(os.cpu_count), client.run(os.getpid)
    per_host = Counter()
    for w, i in info.items():
        per_host[i["host"]] += i["nthreads"]
    for w, i in info.items():
        if pids.get(w) != os.getpid():      # never the threads of this very process
            client.run(_set_threads, max(1, (cpus[w] or 1) // per_host[i["host"]]), workers=[w])
    log(f"Dask: {len(info)} workers; dashboard {client.dashboard_link}")


def run_dask(todo, scheduler, profile, run, recipe, log, *, processes: bool = True,
             n_workers: int | None = None) -> None:
    """Every (row, seed) a task on the cluster; records written here as tasks finish.
    Ctrl-C cancels the tasks not finished (they run again on resume)."""
    from distributed import as_completed as finished
    client, cluster = open_client(scheduler, processes=processes, n_workers=n_workers)
    try:
        prepare_workers(client, log)
        paths, futures = {}, []
        for r, s, p in todo:
            f = client.submit(compute_row, r, profile, s, run, None, recipe, pure=False,
                              key=f"row-{r.id}-seed{s}-{os.getpid()}-{time.time_ns()}")
            paths[f.key] = (r, s, p)
            futures.append(f)
        bar = Progress(len(todo), log)
        try:
            for f in finished(futures):
                r, s, p = paths[f.key]
                if f.status == "finished":
                    rec = f.result()
                else:                       # the worker itself died
                    exc = f.exception()
                    rec = {**_record(r, profile, s, recipe), "status": "failed",
                           "error": f"{type(exc).__name__}: {exc}"}
                write_json(Path(p), rec)
                bar.finished(r.id, s, rec)
        except KeyboardInterrupt:
            log("interrupted: cancelling the rows not finished")
            client.cancel(futures)
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
