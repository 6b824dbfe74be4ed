"""Run independent, seeded tasks in process or on Dask, with resumable on-disk results.

:func:`run_tasks` is the one execution layer of the package: benchmark cells, compare splits x models and
sampled chunks are all "apply a pure function to a list of task descriptions". It runs them

* in this process, one after the other, for ``workers=1`` (no Dask at all);
* on an embedded ``dask.distributed.LocalCluster`` of worker *processes* sized to the machine (default);
* on any existing Dask cluster when ``scheduler="tcp://host:port"`` (or a ``distributed.Client``) is given
  (``dask scheduler`` + ``dask worker`` on a cluster, or a ``LocalCluster`` started elsewhere).

Every worker runs its tasks with ``threads_per_worker`` torch/BLAS threads (default 1), so ``k`` workers
use ``k`` cores and do not oversubscribe them; the serial path uses the same thread count, so that results
are bit-identical however the tasks are spread (torch CPU kernels can round differently with other thread
counts). Tasks must be pure: everything random in them is seeded from the task description.

With ``cache_dir`` each finished task is written at once to ``cache_dir/<key>.pkl`` (the key is a hash of
the function's name and the task), so an interrupted sweep restarted with the same arguments only runs the
tasks that had not finished. The cache holds pickles: point it only at folders that you wrote yourself.

Functions defined in scripts outside the package (``analyses/*.py``) reach workers of a remote cluster when
their module is registered with :func:`register_by_value` (cloudpickle then ships their code).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["available_cores", "imap_tasks", "register_by_value", "run_tasks", "task_key"]

log = logging.getLogger(__name__)

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """Cores this process may run on (the CPU affinity mask where the OS has one, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def task_key(fn: Callable, task: Any) -> str:
    """Stable cache key of ``fn(task)``: SHA-256 of the function's qualified name and the task as JSON.

    Tasks that JSON cannot encode exactly (arrays, objects) fall back to their ``repr``; give such tasks a
    short JSON-able description instead (e.g. a seed and parameters rather than the data).

    Parameters
    ----------
    fn : callable
        The task function; its ``__module__`` and ``__qualname__`` enter the key.
    task : Any
        The task argument, JSON-encoded with sorted keys.

    Returns
    -------
    key : str
        The first 32 hex digits of the SHA-256 digest.
    """
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    blob = json.dumps([name, task], sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def register_by_value(module) -> None:
    """Ship ``module``'s code with its functions to Dask workers (cloudpickle by value), for scripts that are
    not importable on the workers (``analyses/*.py`` on a remote cluster)."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(module)


def _set_threads(n: int) -> int | None:
    """Set torch's intra-op threads (when torch is loaded) and return the previous value."""
    import torch

    previous = torch.get_num_threads()
    if previous != n:
        torch.set_num_threads(n)
    return previous


def _short(task: Any, limit: int = 160) -> str:
    text = repr(task)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call(fn: Callable, task: Any, threads: int) -> Any:
    """Run one task on a worker with ``threads`` torch threads."""
    _set_threads(threads)
    return fn(task)


_FUNCTIONS: dict[bytes, Callable] = {}  # per worker process: unpickled task functions


def _call_pickled(blob: bytes, task: Any, threads: int) -> Any:
    """Worker side of :func:`_ship`: unpickle the function once per process, then run the task."""
    import cloudpickle

    key = hashlib.sha256(blob).digest()
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = cloudpickle.loads(blob)
    return _call(_FUNCTIONS[key], task, threads)


def _ship(fn: Callable) -> bytes:
    """``fn`` pickled by cloudpickle for the workers. Dask pickles task arguments with plain pickle when it
    can, i.e. functions by reference; the scheduler (which unpickles the graph) and remote workers cannot
    import functions of a script, so the function travels as bytes (by value where registered with
    :func:`register_by_value`, by reference for importable modules)."""
    import cloudpickle

    return cloudpickle.dumps(fn)


class _Cache:
    """One pickle per finished task in ``folder``, written atomically (a rename), read back on resume."""

    def __init__(self, folder, fn: Callable):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fn = fn

    def path(self, task) -> Path:
        return self.folder / f"{task_key(self.fn, task)}.pkl"

    def load(self, task) -> tuple[bool, Any]:
        path = self.path(task)
        if not path.exists():
            return False, None
        try:
            with path.open("rb") as fh:
                stored = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            log.warning("ignoring unreadable cached result %s (%s); the task runs again", path, exc)
            return False, None
        return True, stored["result"]

    def store(self, task, result) -> None:
        path = self.path(task)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump({"task": repr(task), "result": result}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


@contextlib.contextmanager
def _client(workers: int, scheduler, threads: int):
    """A Dask client: to ``scheduler`` when given (not closed: the cluster is the user's), else to a new
    LocalCluster of ``workers`` processes, closed on exit."""
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    dask_log.setLevel(max(level, logging.WARNING))  # no per-worker INFO lines on the user's console
    try:
        with _connect(workers, scheduler, threads) as client:
            yield client
    finally:
        dask_log.setLevel(level)


@contextlib.contextmanager
def _connect(workers: int, scheduler, threads: int):
    from distributed import Client, LocalCluster

    if scheduler is not None:
        if isinstance(scheduler, Client):
            yield scheduler
            return
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise ValueError(
                f"scheduler must be an address like 'tcp://host:8786' or a Client, got {scheduler!r}"
            )
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise OSError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: str(threads) for k in _THREAD_VARS})  # inherited by the worker processes
    try:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # its HTTP server (health checks) on a free port; no dashboard page
            silence_logs=logging.ERROR,
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _check_common(workers, threads_per_worker) -> tuple[int | None, int]:
    from .validation import check_positive_int

    if workers is not None:
        workers = check_positive_int(workers, "workers")
    return workers, check_positive_int(threads_per_worker, "threads_per_worker")


def imap_tasks(
    fn: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    workers: int | None = None,
    scheduler=None,
    threads_per_worker: int = 1,
    max_in_flight: int | None = None,
) -> Iterator[Any]:
    """Yield ``fn(task)`` for each task, in task order, with at most ``max_in_flight`` tasks submitted at once.

    The streaming form of :func:`run_tasks` (no cache, no progress bar): results are held only until the
    earlier ones have been yielded, so memory stays bounded for long task lists (chunks of a large sample).

    Parameters
    ----------
    fn, tasks, workers, scheduler, threads_per_worker
        As :func:`run_tasks`.
    max_in_flight : int, optional
        Tasks submitted but not yet yielded (default twice the number of workers).

    Yields
    ------
    result : Any
        ``fn(task)`` for each task, in the order of ``tasks``.
    """
    workers, threads = _check_common(workers, threads_per_worker)
    if scheduler is None and (workers or available_cores()) == 1:
        previous = _set_threads(threads)
        try:
            for task in tasks:
                yield fn(task)
        finally:
            _set_threads(previous)
        return
    from distributed import as_completed

    blob = _ship(fn)
    with _client(workers or available_cores(), scheduler, threads) as client:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        window = max_in_flight or 2 * n_workers
        it = iter(tasks)
        pending: dict[int, Any] = {}  # index -> future
        done: dict[int, Any] = {}
        next_out, next_in = 0, 0
        ac = as_completed()
        index_of: dict[str, int] = {}
        exhausted = False
        while True:
            while not exhausted and len(pending) + len(done) < window:
                try:
                    task = next(it)
                except StopIteration:
                    exhausted = True
                    break
                fut = client.submit(_call_pickled, blob, task, threads, pure=False)
                index_of[fut.key] = next_in
                pending[next_in] = fut
                ac.add(fut)
                next_in += 1
            if next_out in done:
                yield done.pop(next_out)
                next_out += 1
                continue
            if not pending:
                return
            fut = next(ac)
            i = index_of.pop(fut.key)
            pending.pop(i)
            done[i] = fut.result()  # raises the task's own exception


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int | None = None,
    scheduler=None,
    progress: bool = True,
    cache_dir=None,
    threads_per_worker: int = 1,
    desc: str = "tasks",
) -> list:
    """Apply ``fn`` to every task, serially or on Dask, and return the results in task order.

    Parameters
    ----------
    fn : callable ``fn(task) -> result``
        A pure function (everything random seeded from ``task``), importable or picklable by the workers: a
        module-level function (see :func:`register_by_value` for scripts on remote clusters).
    tasks : sequence
        Task descriptions (small, picklable; JSON-able ones give stable cache keys, see :func:`task_key`).
    workers : int, optional
        ``1``: run in this process, no Dask. Otherwise the number of worker processes of an embedded
        ``LocalCluster`` (default: the cores available, at most one per task to run). Ignored when
        ``scheduler`` is given.
    scheduler : str or distributed.Client, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``) or a connected Client: the tasks run
        on its workers, which need this package installed (and numpy/torch versions like the client's).
    progress : bool, default True
        A progress bar of completed/total tasks (tqdm; on a terminal only).
    cache_dir : path, optional
        Write each finished result to ``cache_dir/<key>.pkl`` as soon as it arrives and reuse the stored
        results of a previous (interrupted) run: the sweep resumes where it stopped. Results come back the
        same whether computed or loaded.
    threads_per_worker : int, default 1
        torch (and OpenMP/BLAS) threads per worker; also used by the serial path so that results do not
        depend on how tasks are spread.
    desc : str
        Label of the progress bar.

    Returns
    -------
    list
        ``[fn(task) for task in tasks]``.

    Raises
    ------
    RuntimeError
        When tasks fail: the others still run (and are cached), then the first failure is raised, with the
        number of failed tasks.

    Examples
    --------
    >>> from heavytail_diffusion.execution import run_tasks
    >>> run_tasks(abs, [-1, 2, -3], workers=1, progress=False)
    [1, 2, 3]
    """
    from tqdm.auto import tqdm

    tasks = list(tasks)
    workers, threads = _check_common(workers, threads_per_worker)
    cache = _Cache(cache_dir, fn) if cache_dir is not None else None
    results: list[Any] = [None] * len(tasks)
    todo = []
    for i, task in enumerate(tasks):
        hit, value = cache.load(task) if cache else (False, None)
        if hit:
            results[i] = value
        else:
            todo.append(i)
    if cache and len(todo) < len(tasks):
        log.info("%d of %d tasks already done in %s", len(tasks) - len(todo), len(tasks), cache_dir)
    bar = tqdm(
        total=len(tasks), initial=len(tasks) - len(todo), desc=desc, disable=None if progress else True
    )
    failures: list[tuple[int, BaseException]] = []

    def finish(i: int, value: Any) -> None:
        results[i] = value
        if cache:
            cache.store(tasks[i], value)
        bar.update(1)

    try:
        n_workers = min(workers or available_cores(), max(1, len(todo)))
        if not todo:
            pass
        elif scheduler is None and n_workers == 1:
            previous = _set_threads(threads)
            try:
                for i in todo:
                    try:
                        value = fn(tasks[i])
                    except Exception as exc:  # noqa: BLE001 (reported below, after the other tasks)
                        failures.append((i, exc))
                        continue
                    finish(i, value)
            finally:
                _set_threads(previous)
        else:
            from distributed import as_completed

            blob = _ship(fn)
            with _client(n_workers, scheduler, threads) as client:
                futures, index_of = [], {}
                for i in todo:
                    fut = client.submit(_call_pickled, blob, tasks[i], threads, pure=False)
                    index_of[fut.key] = i
                    futures.append(fut)
                del fut
                for fut in as_completed(futures):
                    i = index_of[fut.key]
                    if fut.status == "error":
                        failures.append((i, fut.exception()))
                        continue
                    finish(i, fut.result())
    finally:
        bar.close()
    if failures:
        i, exc = min(failures, key=lambda f: f[0])
        raise RuntimeError(
            f"{len(failures)} of {len(tasks)} tasks failed; first: task {i} ({_short(tasks[i])}): "
            f"{type(exc).__name__}: {exc}"
            + (" (the finished ones are cached; rerun to resume)" if cache else "")
        ) from exc
    return results
