"""Real tables end to end (issue 11): does every generator keep a mixed table's support, atoms and tails?

Cases (each: train rows, held-out rows, the column schema inferred by ``load_table``):

* ``zi-claims``: the seeded mixed benchmark (``heavytail_diffusion.benchmarks``: three zero-inflated GPD
  losses whose zero pattern depends on the sizes, a capped column, counts, a category); 3000 training rows,
  held-out = 200,000 fresh draws (truth).
* ``zi-claims-noatoms``: the same law with no zeros (p_zero = 0): the yardstick for "tail errors no worse
  than on the same columns without atoms" (errors of the continuous part, against the exact GPD quantiles).
* ``fort-collins``: daily rain at one gauge (bundled), assembled as (rain today, rain yesterday): two
  columns with 78% exact zeros each, on a 0.01-inch grid, whose zeros depend on each other; a random 70/30
  split of the days (training rows subsampled to 5000).
* ``danish-daily``: the Danish fire claims (bundled) aggregated by calendar day 1980-1990: the day's total
  loss (0 on the 59% of days without a claim), its largest claim, the number of claims (a count) and the
  weekday (a category); random 70/30 split.

Per (case, generator): share of sampled rows outside the support (any value outside its column's support,
a non-integer count, an unknown category: must be 0), atom frequency of every atom column (sample vs
held-out, in percentage points) and conditional on the largest 5% of the heaviest other column, q0.99 /
q0.999 relative errors per continuous column (of the whole column, atoms included, against the held-out
rows), Hill xi of the continuous part of the heaviest column (k = 2% of its positive values), chi(0.95)
between the two heaviest columns, fit and sample seconds. Settings: diffusion models ``quick=True`` (600
denoiser steps), flow 300 steps; 20,000 rows drawn per model; one seed. Results are cached per (case,
model) in ``/tmp/real_tables_parts`` so an interrupted run resumes.

Usage::

    OMP_NUM_THREADS=1 python analyses/real_tables.py            # every case and generator (~30-60 CPU-min)
    python analyses/real_tables.py --cases zi-claims --models evt-t-copula,truncated
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.data import dataset_path, load_dataset, load_table
from heavytail_diffusion.diagnostics import hill
from heavytail_diffusion.diagnostics.dependence import chi
from heavytail_diffusion.models import make_model

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = Path("/tmp/real_tables_parts")
MODELS = ["truncated", "edm", "t-edm", "gaussian-start", "empirical-start", "flow", "evt-t-copula"]
SETTINGS = {
    "truncated": {"quick": True, "progress": False},
    "edm": {"quick": True, "progress": False},
    "t-edm": {"quick": True, "progress": False},
    "gaussian-start": {"quick": True, "progress": False},
    "empirical-start": {"quick": True, "progress": False},
    "flow": {"flow_steps": 300, "progress": False},
    "evt-t-copula": {},
}
N_SAMPLES = 20_000


# ---------------------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------------------
def case_frames(name: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    if name in ("zi-claims", "zi-claims-noatoms"):
        b = get_benchmark("zi-claims", **({"p_zero": (0.0, 0.0, 0.0)} if name.endswith("noatoms") else {}))
        return b.sample_frame(3000, seed=seed), b.sample_frame(200_000, seed=seed + 1000), {"bench": b}
    if name == "fort-collins":
        df = pd.read_csv(dataset_path("fort_collins"))
        frame = pd.DataFrame({"rain": df["prec_in"].to_numpy()[1:], "rain_yesterday": df["prec_in"].to_numpy()[:-1]})
    elif name == "danish-daily":
        d = load_dataset("danish")
        days = pd.date_range(d["date"].min(), d["date"].max(), freq="D")
        g = d.groupby("date")["loss_mdkk"]
        frame = pd.DataFrame({
            "total_loss": g.sum().reindex(days, fill_value=0.0).to_numpy(),
            "max_claim": g.max().reindex(days, fill_value=0.0).to_numpy(),
            "n_claims": g.size().reindex(days, fill_value=0).to_numpy(),
            "weekday": days.day_name().str[:3].to_numpy(),
        })  # fmt: skip
    else:
        raise ValueError(name)
    idx = rng.permutation(len(frame))
    n_train = int(0.7 * len(frame))
    train, test = frame.iloc[idx[:n_train]], frame.iloc[idx[n_train:]]
    if len(train) > 5000:
        train = train.iloc[:5000]
    return train.reset_index(drop=True), test.reset_index(drop=True), {}


# ---------------------------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------------------------
def outside_support(Y: pd.DataFrame, schema) -> float:
    bad = np.zeros(len(Y), dtype=bool)
    for s in schema:
        v = Y[s.name]
        if s.kind == "categorical":
            bad |= ~v.isin(list(s.categories)).to_numpy()
            continue
        x = v.to_numpy(dtype=float)
        lo, hi = s.support_bounds()
        bad |= ~np.isfinite(x) | (x < lo) | (x > hi)
        if s.kind == "positive":
            bad |= x <= 0
        if s.kind == "integer":
            bad |= x != np.round(x)
    return float(bad.mean())


def heaviest(frame: pd.DataFrame, schema) -> list[str]:
    """Continuous columns ordered by their 0.99-quantile / median ratio of positive values (heaviest first)."""
    cont = [s.name for s in schema if s.kind in ("real", "positive", "nonnegative", "bounded")]

    def ratio(c):
        x = frame[c].to_numpy(dtype=float)
        x = x[x > 0]
        return np.quantile(x, 0.99) / max(np.median(x), 1e-12) if x.size > 20 else 0.0

    return sorted(cont, key=ratio, reverse=True)


def scores(train, test, Y, schema, extra) -> dict:
    out = {"outside_support": outside_support(Y, schema)}
    heavy = heaviest(test, schema)
    for s in schema:
        if s.atoms:
            a = s.atoms[0] if len(s.atoms) == 1 else s.atoms
            f_y = float(np.isin(Y[s.name].to_numpy(dtype=float), a).mean())
            f_t = float(np.isin(test[s.name].to_numpy(dtype=float), a).mean())
            out[f"atom_{s.name}_pp"] = 100 * (f_y - f_t)
            other = next((h for h in heavy if h != s.name), None)
            if other is not None:
                ty, tt = Y[other] > Y[other].quantile(0.95), test[other] > test[other].quantile(0.95)
                c_y = float(np.isin(Y.loc[ty, s.name].to_numpy(dtype=float), a).mean())
                c_t = float(np.isin(test.loc[tt, s.name].to_numpy(dtype=float), a).mean())
                out[f"atom_{s.name}|{other}_top5_pp"] = 100 * (c_y - c_t)
        if s.kind in ("real", "positive", "nonnegative", "bounded", "integer") and s.kind != "categorical":
            x_y, x_t = Y[s.name].to_numpy(dtype=float), test[s.name].to_numpy(dtype=float)
            for q in (0.99, 0.999):
                ref = np.quantile(x_t, q)
                if ref != 0:
                    out[f"q{q:g}_{s.name}"] = float(abs(np.quantile(x_y, q) - ref) / abs(ref))
            if "bench" in extra and s.name in ("building", "contents", "profits"):  # continuous part vs truth
                b = extra["bench"]
                j = b.columns.index(s.name)
                pos = x_y[x_y > 0]
                for q in (0.99, 0.999):
                    true = float(b.scale[j] / b.xi[j] * ((1 - q) ** (-b.xi[j]) - 1))
                    out[f"cont_q{q:g}_{s.name}"] = float(abs(np.quantile(pos, q) - true) / true)
    if heavy:
        h = heavy[0]
        pos = Y[h].to_numpy(dtype=float)
        pos = pos[pos > 0]
        out[f"hill_xi_{h}"] = float(hill(pos, k=max(10, int(0.02 * pos.size)), ci=None).value)
    if len(heavy) >= 2:
        out[f"chi95_{heavy[0]}_{heavy[1]}"] = float(chi(Y[heavy[0]].to_numpy(float), Y[heavy[1]].to_numpy(float), 0.95))
    return out


def data_row(train, test, schema, extra) -> dict:
    """The same metrics for the held-out rows' own law: the training rows scored like a generator."""
    return scores(train, test, train, schema, extra)


def run_case(case: str, models: list[str], seed: int) -> list[dict]:
    train, test, extra = case_frames(case, seed)
    table = load_table(train)
    schema = table.schema.select(table.columns)
    print(f"== {case}: {len(train)} training rows, {len(test)} held-out rows", flush=True)
    for line in str(table.schema).splitlines():
        print("   ", line, flush=True)
    rows = [{"case": case, "model": "training rows", **data_row(train, test, schema, extra)}]
    for name in models:
        part = PARTS / f"{case}_{name}_seed{seed}.json"
        if part.exists():
            rows.append(json.loads(part.read_text()))
            continue
        t0 = time.process_time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make_model(name, seed=seed, **SETTINGS[name]).fit(table)
                fit_cpu = time.process_time() - t0
                t1 = time.perf_counter()
                Y = model.sample_frame(N_SAMPLES, seed=seed + 1)
                sample_s = time.perf_counter() - t1
            row = {"case": case, "model": name, "fit_cpu_s": fit_cpu, "sample_s": sample_s,
                   **scores(train, test, Y, schema, extra)}  # fmt: skip
        except Exception as exc:  # noqa: BLE001  (a failed generator is a result too)
            row = {"case": case, "model": name, "error": f"{type(exc).__name__}: {exc}"[:200]}
        PARTS.mkdir(parents=True, exist_ok=True)
        part.write_text(json.dumps(row))
        print(f"   {name}: {json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})}", flush=True)
        rows.append(row)
    return rows


def _markdown(df: pd.DataFrame) -> str:
    def cell(v):
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.4g}"
        return str(v).replace("|", "/")

    head = "| metric | " + " | ".join(map(str, df.columns)) + " |"
    rule = "|---|" + "---:|" * df.shape[1]
    body = ["| " + str(i).replace("|", "/") + " | " + " | ".join(cell(v) for v in row) + " |" for i, row in df.iterrows()]
    return "\n".join([head, rule, *body])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", default="zi-claims,zi-claims-noatoms,fort-collins,danish-daily")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS / "real_tables"))
    a = p.parse_args()
    rows = []
    for case in a.cases.split(","):
        rows += run_case(case, a.models.split(","), a.seed)
    df = pd.DataFrame(rows)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out.with_suffix(".csv"), index=False)
    lines = ["# Real tables end to end (analyses/real_tables.py)", "",
             (f"Seed {a.seed}; diffusion models quick (600 denoiser steps), flow 300 steps; {N_SAMPLES} rows drawn "
             "per model. `*_pp`: sample minus held-out atom share in percentage points; `q*`: relative "
             "quantile errors against the held-out rows (zi-claims: 200,000 true draws); `cont_q*`: the "
             "continuous part against the exact GPD quantile; `training rows`: the training set scored the "
             "same way (the sampling noise floor)."), ""]  # fmt: skip
    for case, sub in df.groupby("case", sort=False):
        sub = sub.dropna(axis=1, how="all").drop(columns="case").set_index("model")
        lines += [f"## {case}", "", _markdown(sub.T), ""]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out.with_suffix('.md')} and .csv")


if __name__ == "__main__":
    main()
