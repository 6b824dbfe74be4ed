"""The execution layer (serial == Dask workers, resume) and chunked / streamed sampling."""

import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.execution import register_by_value, run_tasks, task_key
from heavytail_diffusion.models import make_model
from heavytail_diffusion.streaming import write_sample

CALLS: list[int] = []


def tiny_cell(task: dict) -> dict:
    """A miniature benchmark cell: seeded data, a seeded torch fit, numbers that depend on every draw."""
    x = get_benchmark("ht2d").sample(task["n"], seed=task["seed"])
    torch.manual_seed(task["seed"])
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.SiLU(), torch.nn.Linear(32, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt = torch.as_tensor(x, dtype=torch.float32)
    for _ in range(20):
        loss = ((net(xt) - xt) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"seed": task["seed"], "q99": np.quantile(x, 0.99, axis=0).tolist(), "loss": loss.item()}


def counted(task: int) -> int:
    """Records its calls; 'interrupts' the sweep (KeyboardInterrupt) at a task listed in ``STOP``."""
    CALLS.append(task)
    if task in STOP:
        raise KeyboardInterrupt
    return task * task


STOP: set[int] = set()


CLUSTER = """
import time
from distributed import LocalCluster
cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
print(cluster.scheduler_address, flush=True)
time.sleep(300)
"""


@pytest.fixture(scope="module")
def cluster_address(tmp_path_factory):
    """A Dask cluster started in another process (from another folder): the code path of a remote one."""
    import os
    import subprocess

    import psutil

    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", CLUSTER],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path_factory.mktemp("c"),
        env=env,
    )
    try:
        yield proc.stdout.readline().strip()
    finally:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.terminate()
        proc.terminate()
        proc.wait()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    X = get_benchmark("ht2d").sample(1200, seed=3)
    evt = make_model("evt-t-copula", seed=0).fit(X)
    trunc = make_model("truncated", quick=True, train_steps=30, progress=False, seed=0).fit(X)
    folder = tmp_path_factory.mktemp("model") / "truncated"
    trunc.save(folder)
    return evt, trunc, folder


def test_serial_equals_two_local_workers_and_a_cluster_by_address(cluster_address):
    register_by_value(sys.modules[__name__])  # this test module is not importable by the worker processes
    tasks = [{"seed": s, "n": 400} for s in range(4)]
    serial = run_tasks(tiny_cell, tasks, workers=1, progress=False)
    parallel = run_tasks(tiny_cell, tasks, workers=2, progress=False)
    assert serial == parallel  # bit-identical, in task order
    assert run_tasks(tiny_cell, tasks, scheduler=cluster_address, progress=False) == serial
    assert [r["seed"] for r in serial] == [0, 1, 2, 3]
    assert len({r["loss"] for r in serial}) == 4  # the tasks really differ


def test_resume_after_interruption(tmp_path):
    CALLS.clear()
    STOP.clear()
    STOP.add(2)
    with pytest.raises(KeyboardInterrupt):
        run_tasks(counted, range(5), workers=1, progress=False, cache_dir=tmp_path)
    assert CALLS == [0, 1, 2]
    assert len(list(tmp_path.glob("*.pkl"))) == 2  # tasks 0 and 1 were written as they finished
    STOP.clear()
    CALLS.clear()
    assert run_tasks(counted, range(5), workers=1, progress=False, cache_dir=tmp_path) == [0, 1, 4, 9, 16]
    assert CALLS == [2, 3, 4]  # only the unfinished tasks ran again
    CALLS.clear()
    assert run_tasks(counted, range(5), workers=1, progress=False, cache_dir=tmp_path) == [0, 1, 4, 9, 16]
    assert CALLS == []


def test_failed_task_is_reported_after_the_others(tmp_path):
    def fail_on_3(t):
        if t == 3:
            raise ValueError("bad task")
        return t

    with pytest.raises(RuntimeError, match=r"1 of 5 tasks failed; first: task 3 .*bad task"):
        run_tasks(fail_on_3, range(5), workers=1, progress=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pkl"))) == 4


def test_task_key_depends_on_task_and_function():
    assert task_key(counted, {"a": 1, "b": 2}) == task_key(counted, {"b": 2, "a": 1})
    assert task_key(counted, {"a": 1}) != task_key(counted, {"a": 2})
    assert task_key(counted, 1) != task_key(tiny_cell, 1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"workers": 0}, "workers"),
        ({"scheduler": "localhost"}, "scheduler"),
        ({"threads_per_worker": 0}, "threads"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_tasks(abs, [1, 2], progress=False, **kwargs)


@pytest.mark.parametrize("which", [0, 1])
def test_chunked_equals_unchunked(models, which):
    model = models[which]
    one_block = model._sample_block(250, np.random.default_rng(7))
    assert np.array_equal(model.sample(250, seed=7), one_block)  # n <= chunk_rows: the single-block stream
    full = model.sample(250, seed=7, chunk_rows=60)
    chunks = list(model.sample_chunks(250, seed=7, chunk_rows=60))
    assert [len(c) for c in chunks] == [60, 60, 60, 60, 10]
    assert np.array_equal(np.concatenate(chunks), full)
    alone = next(model.sample_chunks(250, seed=7, chunk_rows=60, chunks=[3]))
    assert np.array_equal(alone, chunks[3])  # a chunk drawn on its own (a parallel worker) is the same
    assert not np.array_equal(chunks[1], chunks[2])


def test_sample_chunks_checks_arguments(models):
    evt = models[0]
    with pytest.raises(ValueError, match="chunk_rows"):
        evt.sample_chunks(10, seed=0, chunk_rows=0)
    with pytest.raises(ValueError, match="chunks must be indices"):
        evt.sample_chunks(10, seed=0, chunk_rows=5, chunks=[2])
    with pytest.raises(ValueError, match="steps"):
        evt.sample_chunks(10, seed=0, steps=3)


def test_parquet_and_csv_round_trip(models, tmp_path):
    _, trunc, folder = models
    expected = trunc.sample(230, seed=5, chunk_rows=100)
    info = write_sample(folder, 230, tmp_path / "rows.parquet", seed=5, chunk_rows=100, progress=False)
    assert (info["rows"], info["chunks"], info["format"]) == (230, 3, "parquet")
    back = pd.read_parquet(tmp_path / "rows.parquet")
    assert list(back.columns) == list(trunc.columns_)
    assert np.array_equal(back.to_numpy(), expected)
    assert pq.ParquetFile(tmp_path / "rows.parquet").metadata.num_row_groups == 3  # one per chunk
    write_sample(trunc, 230, tmp_path / "rows.csv", seed=5, chunk_rows=100, progress=False)
    csv = pd.read_csv(tmp_path / "rows.csv", float_precision="round_trip")
    assert np.array_equal(csv.to_numpy(), expected)
    assert not list(tmp_path.glob(".*partial*"))


def test_parallel_sampling_from_the_folder_equals_serial(models, tmp_path, cluster_address):
    _, trunc, folder = models
    write_sample(
        folder, 230, tmp_path / "p.parquet", seed=5, chunk_rows=50, scheduler=cluster_address, progress=False
    )
    expected = trunc.sample(230, seed=5, chunk_rows=50)
    assert np.array_equal(pd.read_parquet(tmp_path / "p.parquet").to_numpy(), expected)
    with pytest.raises(ValueError, match="model folder"):
        write_sample(trunc, 10, tmp_path / "x.parquet", workers=2, progress=False)


def test_denoiser_validation_rows_are_capped():
    from heavytail_diffusion.diffusion import train_denoiser

    X = np.random.default_rng(0).standard_normal((400, 2))
    _, hist = train_denoiser(X, 1.0, steps=2, max_val_rows=15, progress=False, device="cpu")
    assert (hist.attrs["n_val"], hist.attrs["n_train"]) == (15, 385)
    _, hist = train_denoiser(X, 1.0, steps=2, max_val_rows=None, progress=False, device="cpu")
    assert hist.attrs["n_val"] == 40


def test_marginal_body_knots_are_bounded_for_large_n(monkeypatch):
    from heavytail_diffusion.priors import marginals

    x = np.random.default_rng(1).standard_t(3, 30_000)
    full = marginals.GPDTailMarginal().fit(x)
    monkeypatch.setattr(marginals, "MAX_BODY_KNOTS", 1000)
    thin = marginals.GPDTailMarginal().fit(x)
    assert thin.knots_x_.size == 1000 < full.knots_x_.size
    assert (thin.knots_x_[0], thin.knots_x_[-1]) == (full.knots_x_[0], full.knots_x_[-1])
    assert thin.shape_upper_ == full.shape_upper_  # the tails do not depend on the body knots
    grid = np.random.default_rng(2).standard_t(3, 20_000)
    gap = 0.9 / 999  # the documented bound: the probability gap between kept knots
    assert np.abs(thin.cdf(grid) - full.cdf(grid)).max() <= gap


def test_sweep_file_is_checked(tmp_path):
    from heavytail_diffusion.cli.benchmark import load_sweep

    good = tmp_path / "s.toml"
    good.write_text('mode = "quick"\n[benches]\nht2d = [0, 1]\n[settings]\nn_gen = 1000\n')
    mod, mode, cfg, tasks = load_sweep(good)
    assert mode == "quick" and cfg["n_gen"] == 1000 and cfg["n_train"] == mod.QUICK["n_train"]
    assert [(t["bench"], t["seed"]) for t in tasks] == [("ht2d", 0), ("ht2d", 1)]
    for text, match in (
        ('mode = "fast"\n', "mode must be"),
        ("[benches]\nnope = [0]\n", "unknown benchmark"),
        ("[settings]\nn_trian = 5\n", "unknown setting"),
        ('[benches]\nht2d = "0"\n', "list of int seeds"),
        ("sweeps = 1\n", "unknown key"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ValueError, match=match):
            load_sweep(bad)
