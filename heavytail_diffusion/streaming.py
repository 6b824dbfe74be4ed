"""Write any number of model draws to parquet or CSV in bounded memory, in this process or on Dask.

:func:`write_sample` draws ``n`` rows chunk by chunk (:meth:`~heavytail_diffusion.models.GenerativeModel.
sample_chunks`) and appends each chunk to the output file as it arrives (one parquet row group per chunk,
or CSV lines), so memory holds a few chunks whatever ``n``. With several workers the chunks are drawn in
parallel by Dask workers that each load the saved model folder, and written in order: the file is the same,
row for row, as the serial one (chunk ``i`` depends only on ``(seed, i)``) and as ``model.sample(n, seed,
chunk_rows=chunk_rows)``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .validation import check_positive_int

__all__ = ["FORMATS", "output_format", "write_sample"]

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

_MODELS: dict[tuple[str, float], object] = {}  # per worker process: loaded model folders


def output_format(path, format: str | None = None) -> str:
    """``"parquet"`` or ``"csv"``: ``format`` when given, else parquet for a .parquet/.pq suffix, CSV otherwise.

    Parameters
    ----------
    path : str or path-like
        The output file; only its last suffix is read (case-insensitive), when ``format`` is None.
    format : {"parquet", "csv"}, optional
        Explicit format; wins over the suffix.

    Returns
    -------
    format : str
        ``"parquet"`` or ``"csv"``.

    Raises
    ------
    ValueError
        If ``format`` is given and is neither ``"parquet"`` nor ``"csv"``.
    """
    if format is not None:
        if format not in ("parquet", "csv"):
            raise ValueError(f"format must be 'parquet' or 'csv', got {format!r}")
        return format
    return FORMATS.get(Path(path).suffix.lower(), "csv")


def _load_cached(folder: str):
    """The model saved in ``folder``, loaded once per worker process (reloaded if the folder changed)."""
    from .models import load_model

    key = (str(Path(folder).resolve()), os.path.getmtime(folder))
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = load_model(folder)
    return _MODELS[key]


def _chunk_task(task: dict) -> np.ndarray:
    """Worker side: chunk ``task["index"]`` of the draw, from the model folder ``task["model"]``."""
    model = _load_cached(task["model"])
    chunks = model.sample_chunks(
        task["n"], task["seed"], chunk_rows=task["chunk_rows"], chunks=[task["index"]], **task["options"]
    )
    return next(chunks).astype(np.float64, copy=False)


def _frame(model, block: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Raw-scale rows as ``model.sample_frame`` gives them (labels and integer dtypes by the model's column
    schema when it has one), under the output column names ``names``."""
    schema = getattr(model, "schema_", None)
    if schema is not None:
        from .data import frame_from_values

        frame = frame_from_values(block, schema)
    else:
        frame = pd.DataFrame(block)
    frame.columns = names
    return frame


class _Writer:
    """Append DataFrame chunks to a parquet file (one row group each) or a CSV file."""

    def __init__(self, path: Path, format: str):
        self.path, self.format = path, format
        self._pq = None
        self._fh = open(path, "w", newline="") if format == "csv" else None  # noqa: SIM115
        self._first = True

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "csv":
            frame.to_csv(self._fh, header=self._first, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema)
            elif table.schema != self._pq.schema:  # e.g. a column that came out integral in one chunk only
                table = table.cast(self._pq.schema)
            self._pq.write_table(table, row_group_size=max(1, len(frame)))
        self._first = False

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._pq is not None:
            self._pq.close()


def write_sample(
    model,
    n: int,
    out,
    *,
    seed: int | None = 0,
    chunk_rows: int = 100_000,
    format: str | None = None,
    columns: Sequence[str] | None = None,
    workers: int | None = 1,
    scheduler=None,
    progress: bool = True,
    **options,
) -> dict:
    """Draw ``n`` rows of a fitted model and stream them to ``out`` (parquet or CSV), chunk by chunk.

    The file is written under a temporary name next to ``out`` and renamed when complete, so an interrupted
    run never leaves a truncated file under the final name.

    Parameters
    ----------
    model : GenerativeModel or path
        A fitted model, or the folder it was saved to. Parallel sampling (``workers > 1`` or ``scheduler``)
        needs the folder: each worker loads it (on a remote cluster it must be readable at the same path).
    n : int
        Rows to draw.
    out : path
        Output file: parquet for a ``.parquet``/``.pq`` suffix, CSV otherwise (or give ``format``).
    seed : int or None, default 0
        Seeds chunk ``i`` by ``(seed, i)`` (:meth:`~heavytail_diffusion.models.GenerativeModel.chunk_generator`);
        the rows equal ``model.sample(n, seed, chunk_rows=chunk_rows)``. None: fresh entropy (serial only).
    chunk_rows : int, default 100_000
        Rows per chunk (and per parquet row group); memory grows with it, not with ``n``.
    format : {"parquet", "csv"}, optional
        Output format (default from the suffix of ``out``).
    columns : sequence of str, optional
        Column names to write (default the model's training column names).
    workers : int or None, default 1
        1: draw in this process. More (or None: one per core): an embedded Dask LocalCluster.
    scheduler : str or distributed.Client, optional
        An existing Dask cluster to draw the chunks on (see :func:`heavytail_diffusion.execution.run_tasks`).
    progress : bool
        tqdm bar in rows (on a terminal only).
    **options
        Sampling options of the model (``steps``, ``sampler``).

    Returns
    -------
    dict
        ``rows``, ``columns``, ``chunks``, ``seconds`` (wall time), ``path``, ``format``.
    """
    n = check_positive_int(n, "n")
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    out = Path(out)
    fmt = output_format(out, format)
    parallel = scheduler is not None or workers != 1
    fitted, folder = _fitted_model(model, parallel)
    if parallel and seed is None:
        raise ValueError("seed: parallel sampling needs an int seed (each chunk is seeded by (seed, index))")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    names = list(columns) if columns is not None else list(fitted.columns_)
    if len(names) != fitted.n_features_in_:
        raise ValueError(f"columns: {len(names)} names given for a model of {fitted.n_features_in_} columns")
    n_chunks = -(-n // chunk_rows)
    if parallel and scheduler is None and n_chunks == 1:
        parallel = False  # one chunk: no cluster to start
    if parallel:
        from .execution import imap_tasks

        fitted.sample_chunks(1, 0, chunk_rows=1, **options)  # validates the options here, once
        tasks = (
            {"model": folder, "n": n, "seed": int(seed), "chunk_rows": chunk_rows, "index": i, "options": options}
            for i in range(n_chunks)
        )
        blocks = imap_tasks(_chunk_task, tasks, workers=workers, scheduler=scheduler)
    else:
        blocks = fitted.sample_chunks(n, seed, chunk_rows=chunk_rows, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    n_chunks = _stream(blocks, fitted, names, out, fmt, n, progress)
    return {
        "rows": n,
        "columns": len(names),
        "chunks": n_chunks,
        "seconds": time.perf_counter() - t0,
        "path": str(out),
        "format": fmt,
    }


def _fitted_model(model, parallel: bool):
    """``(fitted model, its folder or None)`` of a fitted model or of the folder it was saved to."""
    from .models import GenerativeModel

    if isinstance(model, GenerativeModel):
        if parallel:
            raise ValueError(
                "model: parallel sampling needs the saved model folder (each worker loads it); save the model "
                "and pass its path, or use workers=1"
            )
        return model, None
    folder = str(model)
    return _load_cached(folder), folder


def _stream(blocks, fitted, names: list[str], out: Path, fmt: str, n: int, progress: bool) -> int:
    """Write the chunks to a temporary file beside ``out``, renamed to ``out`` when complete (removed on any
    error or interrupt); returns the number of chunks."""
    from tqdm.auto import tqdm

    tmp = out.with_name(f".{out.name}.partial{os.getpid()}")
    writer = _Writer(tmp, fmt)
    bar = tqdm(total=n, unit="rows", unit_scale=True, desc="sampling", disable=None if progress else True)
    n_chunks = 0
    try:
        for block in blocks:
            writer.write(_frame(fitted, block, names))
            bar.update(len(block))
            n_chunks += 1
        writer.close()
        os.replace(tmp, out)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    return n_chunks
