"""Re-run the attack classes of issue 13 and count how each attack ends.

Attacks: bad data files (loader), CLI runs that could lose data, CLI arguments of the wrong type, settings
that could be ignored, tampered model folders, distances at the ends of the float range, and user-facing
messages. Every attack runs in-process (``heavytail_diffusion.cli.main`` or the Python API) on small data,
so the whole run takes about a minute on one CPU core.

Outcomes (each attack gets exactly one):

* ``clear``: a one-line error naming what is wrong (and, for model folders, the folder);
* ``handled``: the input is accepted and handled correctly (e.g. a written index column dropped with a note);
* ``traceback``: an exception escaped the CLI or an unexpected exception type left the API (goal 0);
* ``silent``: it ran and the output is wrong or a setting was ignored, without a word (goal 0);
* ``data-loss``: an input or an existing output was overwritten or destroyed (goal 0);
* ``unclear``: an error, but one whose message misleads or names neither the file nor the fix (goal 0);
* ``late``: a clear error, but only after the whole fit had run (goal 0).

Usage::

    python analyses/attacks.py --json before.json                 # e.g. with PYTHONPATH at an old commit
    python analyses/attacks.py --before before.json --out analyses/results/attacks.md
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

OUTCOMES = ("clear", "handled", "traceback", "silent", "data-loss", "unclear", "late")
GOAL_ZERO = ("traceback", "silent", "data-loss", "unclear", "late")

ATTACKS: list[tuple[str, str, Callable]] = []


def attack(group: str, name: str):
    """Register an attack ``fn(ws) -> (outcome, detail)``."""

    def deco(fn):
        ATTACKS.append((group, name, fn))
        return fn

    return deco


# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------


class _FitCounter:
    """Counts calls of GenerativeModel.fit (to tell an early --out error from a late one)."""

    def __init__(self, delay: float = 0.0):
        from heavytail_diffusion import models

        self.cls, self.calls, self.delay = models.GenerativeModel, 0, delay
        self.orig = self.cls.fit

    def __enter__(self):
        orig, counter = self.orig, self

        def fit(model, *a, **kw):
            counter.calls += 1
            if counter.delay:
                time.sleep(counter.delay)
            return orig(model, *a, **kw)

        self.cls.fit = fit
        return self

    def __exit__(self, *exc):
        self.cls.fit = self.orig


def cli(argv: list[str]) -> tuple[int | None, str, str]:
    """Run ``heavytail argv`` in-process: (exit status or None for an escaped exception, stderr, stdout)."""
    from heavytail_diffusion.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("default")
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 2
        except Exception:  # noqa: BLE001 (what the attacks look for)
            return None, err.getvalue() + traceback.format_exc(), out.getvalue()
    return rc, err.getvalue(), out.getvalue()


def _error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ": error: " in ln]
    return lines[-1] if lines else err.strip().splitlines()[-1] if err.strip() else ""


def judge_error(rc, err: str, *needles: str) -> tuple[str, str]:
    """Classify a CLI run that should fail: clear / unclear / traceback / silent."""
    if rc is None or "Traceback" in err:
        return "traceback", err.strip().splitlines()[-1][:200]
    if rc == 0:
        return "silent", "exit 0"
    line = _error_line(err)
    missing = [n for n in needles if n.lower() not in line.lower()]
    return ("unclear" if missing else "clear"), line[:240]


def api(fn: Callable, expected=(ValueError,)) -> tuple[str, object]:
    """Call ``fn``: ('ok', result) / ('error', message) for an expected exception / ('traceback', message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except expected as exc:
            return "error", " ".join(str(exc).split())
        except Exception as exc:  # noqa: BLE001
            return "traceback", f"{type(exc).__name__}: {exc}"[:200]
    return "ok", (result, [str(w.message) for w in caught])


def _digest(path: Path) -> str:
    if path.is_dir():
        return "".join(_digest(p) for p in sorted(path.iterdir()) if p.is_file())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tampered(ws: Path, name: str, *, config=None, tensors=None, text=None) -> Path:
    """Copy of the saved evt-t-copula model with its manifest or tensors edited (checksum recomputed)."""
    import torch

    dst = ws / f"tampered_{name}"
    shutil.copytree(ws / "model", dst)
    mpath, tpath = dst / "model.json", dst / "tensors.pt"
    manifest = json.loads(mpath.read_text())
    if tensors is not None:
        state = torch.load(tpath, weights_only=True)
        tensors(state)
        torch.save(state, tpath)
        manifest["tensors_sha256"] = hashlib.sha256(tpath.read_bytes()).hexdigest()
    if config is not None:
        config(manifest)
    mpath.write_text(text(json.dumps(manifest)) if text is not None else json.dumps(manifest))
    return dst


def _sample_tampered(ws: Path, folder: Path, out_name: str) -> tuple[str, str]:
    rc, err, _ = cli(["sample", folder, "-n", "50", "--out", ws / out_name])
    if rc == 0:
        return "silent", "loaded and sampled"
    outcome, line = judge_error(rc, err, str(folder))
    return outcome, line


# ---------------------------------------------------------------------------------------------------------
# the workspace: a good data file and two saved models
# ---------------------------------------------------------------------------------------------------------


def make_workspace(root: Path) -> Path:
    rng = np.random.default_rng(13)
    good = root / "train.csv"
    pd.DataFrame({"loss": np.exp(rng.standard_t(3, 300)), "alae": rng.standard_t(3, 300)}).to_csv(
        good, index=False
    )
    rc, err, _ = cli(["fit", good, "--model", "evt-t-copula", "--out", root / "model"])
    assert rc == 0, err
    rc, err, _ = cli(
        [
            "fit",
            good,
            "--model",
            "truncated",
            "--sigma-T",
            "0.5",
            "--out",
            root / "diffusion",
            "--param",
            "train_steps=5",
            "--param",
            "progress=false",
        ]
    )
    assert rc == 0, err
    return root


# ---------------------------------------------------------------------------------------------------------
# loader
# ---------------------------------------------------------------------------------------------------------


def _load(path):
    from heavytail_diffusion.data import load_table
    from heavytail_diffusion.errors import DataError

    return api(lambda: load_table(path), expected=(DataError,))


def _rows(n=30):
    return "".join(f"{1990 + i % 10},{i + 1.5},{(i + 1) ** 1.5:.3f}\n" for i in range(n))


@attack("loader", "header with fewer names than fields")
def _(ws):
    f = ws / "short_header.csv"
    f.write_text("loss,alae\n" + _rows())
    kind, res = _load(f)
    if kind == "ok":
        t = res[0]
        return "silent", f"columns {t.columns}; 'loss' starts {t.values[0, 0]:g} (the file's 2nd field)"
    return ("clear" if kind == "error" else kind), str(res)[:200]


@attack("loader", "CSV written with its pandas index")
def _(ws):
    f = ws / "indexed.csv"
    pd.DataFrame({"loss": np.arange(30.0) ** 1.5 + 1, "alae": np.arange(30) * 2.0 + 0.5}).to_csv(f)
    kind, res = _load(f)
    if kind != "ok":
        return ("unclear" if kind == "error" else kind), str(res)[:200]
    t, notes = res
    if "Unnamed: 0" in t.columns:
        return "silent", "row numbers modelled as the column 'Unnamed: 0'"
    return ("handled" if any("index" in n for n in notes) else "silent"), f"columns {t.columns}"


@attack("loader", "headerless CSV")
def _(ws):
    f = ws / "headerless.csv"
    f.write_text(_rows())
    kind, res = _load(f)
    if kind == "ok":
        return "silent", f"first row became the column names {res[0].columns}"
    return ("clear" if kind == "error" and "header" in str(res) else kind), str(res)[:200]


@attack("loader", "literal 1e-400 (underflows to 0)")
def _(ws):
    f = ws / "underflow.csv"
    f.write_text(
        "a,b\n" + "".join(f"{(i + 1) ** 1.3:.3f},{(i + 1) * 1.5}\n" for i in range(29)) + "1e-400,3\n"
    )
    kind, res = _load(f)
    if kind != "ok":
        return ("unclear" if kind == "error" else kind), str(res)[:200]
    noted = [n for n in res[1] if "1e-400" in n]
    return ("handled", noted[0][:200]) if noted else ("silent", "read as 0 without a note")


def _truncated(ws, name, compress):
    data = ("a,b\n" + "".join(f"{i + 1},{(i + 1) * 1.5}\n" for i in range(3000))).encode()
    blob = compress(data)
    f = ws / name
    f.write_bytes(blob[: len(blob) // 2])
    kind, res = _load(f)
    if kind == "ok":
        return "silent", "loaded a truncated file"
    return ("clear" if kind == "error" else kind), str(res)[:200]


@attack("loader", "truncated .gz")
def _(ws):
    import gzip

    return _truncated(ws, "trunc.csv.gz", gzip.compress)


@attack("loader", "truncated .xz")
def _(ws):
    import lzma

    return _truncated(ws, "trunc.csv.xz", lzma.compress)


@attack("loader", "symbolic link loop")
def _(ws):
    a, b = ws / "ring_a.csv", ws / "ring_b.csv"
    os.symlink(b.name, a)
    os.symlink(a.name, b)
    kind, res = _load(a)
    if kind == "error":
        return ("clear" if "symbolic link loop" in str(res) else "unclear"), str(res)[:200]
    return ("silent" if kind == "ok" else kind), str(res)[:200]


@attack("loader", "UTF-16 file")
def _(ws):
    f = ws / "utf16.csv"
    f.write_text(
        "a,b\n" + "".join(f"{(i + 1) ** 1.3:.3f},{(i + 1) * 1.5}\n" for i in range(30)), encoding="utf-16"
    )
    kind, res = _load(f)
    if kind == "ok":
        ok = res[0].columns == ("a", "b") and res[0].values[0, 1] == 1.5
        return ("handled" if ok else "silent"), f"columns {res[0].columns}"
    if kind == "error":
        return ("clear" if "UTF-16" in str(res) else "unclear"), str(res)[:200]
    return kind, str(res)


# ---------------------------------------------------------------------------------------------------------
# data loss
# ---------------------------------------------------------------------------------------------------------


def _loss_check(path: Path, before: str, rc, err, *needles) -> tuple[str, str]:
    if not path.exists() or _digest(path) != before:
        return "data-loss", f"{path.name} was overwritten or removed (exit {rc})"
    return judge_error(rc, err, *needles)


@attack("data loss", "sample --out <the training file>")
def _(ws):
    good = ws / "train.csv"
    before = _digest(good)
    rc, err, _ = cli(["sample", ws / "model", "-n", "10", "--out", good])
    outcome = _loss_check(good, before, rc, err, "train.csv")
    shutil.copy(ws / "train_backup.csv", good)
    return outcome


@attack("data loss", "fit --out <an existing model folder>")
def _(ws):
    target = ws / "model_keep"
    shutil.copytree(ws / "model", target)
    before = _digest(target)
    rc, err, _ = cli(["fit", ws / "train.csv", "--model", "evt-t-copula", "--param", "copula=gaussian",
                      "--out", target])  # fmt: skip
    return _loss_check(target, before, rc, err, "model_keep")


@attack("data loss", "sample --out <a file inside the model folder>")
def _(ws):
    target = ws / "model_inside"
    shutil.copytree(ws / "model", target)
    before = _digest(target)
    rc, err, _ = cli(["sample", target, "-n", "10", "--out", target / "model.json"])
    return _loss_check(target, before, rc, err, "model.json")


@attack("data loss", "fit --out <the input data file>")
def _(ws):
    good = ws / "train.csv"
    before = _digest(good)
    with _FitCounter() as fc:
        rc, err, _ = cli(["fit", good, "--model", "evt-t-copula", "--out", good])
    outcome = _loss_check(good, before, rc, err, "train.csv")
    if outcome[0] == "clear" and fc.calls:
        return "late", outcome[1]
    return outcome


@attack("data loss", "fit --out under a file (unwritable)")
def _(ws):
    with _FitCounter() as fc:
        rc, err, _ = cli(
            ["fit", ws / "train.csv", "--model", "evt-t-copula", "--out", ws / "train_backup.csv" / "m"]
        )
    outcome = judge_error(rc, err, "train_backup.csv")
    return ("late", outcome[1]) if outcome[0] == "clear" and fc.calls else outcome


@attack("data loss", "two concurrent fits to one folder")
def _(ws):
    target = ws / "model_concurrent"
    rcs: list = []

    from heavytail_diffusion.cli import main

    def one():
        try:
            rcs.append(main(["fit", str(ws / "train.csv"), "--model", "evt-t-copula", "--out", str(target)]))
        except Exception:  # noqa: BLE001
            rcs.append(None)

    err = io.StringIO()  # one redirection for both threads (redirect_stderr is process-wide)
    with _FitCounter(delay=1.0), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
            time.sleep(0.3)
        for t in threads:
            t.join()
    codes = sorted(-1 if rc is None else rc for rc in rcs)
    if codes == [0, 0]:
        return "data-loss", "both fits reported success; the first model was silently replaced"
    return (
        judge_error(2, err.getvalue(), "model_concurrent") if codes == [0, 2] else ("traceback", str(codes))
    )


@attack("data loss", "save interrupted after the tensors")
def _(ws):
    from heavytail_diffusion.models import load_model

    target = ws / "model_interrupted"
    shutil.copytree(ws / "model", target)
    model = load_model(ws / "diffusion")
    orig = Path.write_text

    def interrupted(self, *a, **kw):
        if self.name == "model.json":
            raise KeyboardInterrupt
        return orig(self, *a, **kw)

    Path.write_text = interrupted
    try:
        model.save(target)
    except KeyboardInterrupt:
        pass
    finally:
        Path.write_text = orig
    kind, res = api(lambda: load_model(target))
    if kind == "ok" and type(res[0]).__name__ == "EVTCopulaBaseline":
        return "handled", "the previous model is intact"
    return "data-loss", f"the previous model no longer loads ({str(res)[:120]})"


# ---------------------------------------------------------------------------------------------------------
# argument types and ignored settings
# ---------------------------------------------------------------------------------------------------------


def _fit_param(ws, model, *params):
    args = ["fit", ws / "train.csv", "--model", model, "--out", ws / f"m_param_{len(os.listdir(ws))}"]
    for p in params:
        args += ["--param", p]
    return cli(args)


@attack("arguments", "--param preprocessing=none")
def _(ws):
    rc, err, _ = _fit_param(ws, "evt-t-copula", "preprocessing=none")
    if rc == 0:
        return "handled", "fitted with the 'none' transform"
    return judge_error(rc, err, "preprocessing")


for _text, _needle in [("width=abc", "width"), ("lr=abc", "lr"), ("sigma_T=none", "sigma_T"),
                       ("quick=maybe", "quick"), ("train_steps=1.5", "train_steps")]:  # fmt: skip

    def _param_attack(ws, text=_text, needle=_needle):
        rest = ["train_steps=5", "progress=false"] + ([] if text.startswith("sigma_T") else ["sigma_T=0.5"])
        rc, err, _ = _fit_param(ws, "truncated", text, *rest)
        return judge_error(rc, err, needle)

    attack("arguments", f"--param {_text}")(_param_attack)


@attack("arguments", "sample --steps 0")
def _(ws):
    rc, err, _ = cli(["sample", ws / "diffusion", "-n", "5", "--steps", "0", "--out", ws / "steps0.csv"])
    return judge_error(rc, err, "steps")


@attack("arguments", "sample --steps -3")
def _(ws):
    rc, err, _ = cli(["sample", ws / "diffusion", "-n", "5", "--steps", "-3", "--out", ws / "steps3.csv"])
    return judge_error(rc, err, "steps")


# ---------------------------------------------------------------------------------------------------------
# tampered model folders (checksum recomputed: the checksum only catches accidents)
# ---------------------------------------------------------------------------------------------------------


def _set_tensor(match: str, index, value):
    def edit(state):
        key = next(k for k in state if match in k)
        t = state[key].clone()
        t[index] = value
        state[key] = t

    return edit


_TAMPER = {
    "preprocessor scale 0": {"tensors": _set_tensor("preprocessor.scale", 0, 0.0)},
    "upper-tail xi 50": {"tensors": _set_tensor(".upper", 1, 50.0)},
    "GPD scale -1": {"tensors": _set_tensor(".lower", 2, -1.0)},
    "knots NaN": {"tensors": _set_tensor("knots_x", 0, float("nan"))},
    "copula correlation not positive definite": {
        "tensors": lambda s: [_set_tensor("corr", ij, 1.5)(s) for ij in ((0, 1), (1, 0))]
    },
    "preprocessing name 'cube'": {"config": lambda m: m["config"]["preprocessor"].update(methods=["cube", "robust"])},
    "loc with 3 values for 2 columns": {
        "tensors": lambda s: s.update({"preprocessor.loc": s["preprocessor.loc"].repeat(2)[:3]})
    },
    "format_version 0": {"config": lambda m: m.update(format_version=0)},
    "format_version -5": {"config": lambda m: m.update(format_version=-5)},
    "format_version true": {"config": lambda m: m.update(format_version=True)},
    "NaN literal in the config": {"text": lambda t: t.replace('"fit_seconds": ', '"fit_seconds": NaN, "x": ')},
    "deeply nested JSON": {"text": lambda t: t.replace('"config": {', '"deep": ' + "[" * 100000 + "]" * 100000 + ', "config": {')},
    "a tensor missing": {"tensors": lambda s: s.pop(next(k for k in s if "corr" in k))},
}  # fmt: skip

for _name, _edit in _TAMPER.items():

    def _tamper_attack(ws, name=_name, edit=_edit):
        folder = _tampered(ws, name.replace(" ", "_").replace("'", ""), **edit)
        return _sample_tampered(ws, folder, f"tampered_{abs(hash(name))}.csv")

    attack("model folders", _name)(_tamper_attack)


@attack("model folders", "column names '../../etc/passwd' and '=cmd|...'")
def _(ws):
    names = ["../../etc/passwd", "=cmd|' /C calc'!A0"]

    def rename(manifest):
        manifest["config"]["columns"] = names
        for spec, name in zip(
            manifest["config"].get("encoder", {}).get("schema", {}).get("columns", []), names
        ):
            spec["name"] = name  # the column schema (round 2) repeats the names

    folder = _tampered(ws, "names", config=rename)
    out = ws / "names.csv"
    rc, err, _ = cli(["sample", folder, "-n", "5", "--out", out])
    if rc != 0:
        return judge_error(rc, err, str(folder))
    header = out.read_text().splitlines()[0]
    cells = [c.strip('"') for c in header.split(",")]
    if any(c.startswith(("=", "+", "-", "@")) for c in cells):
        return "silent", f"CSV header {header!r} (formula injection)"
    return "handled", f"CSV header {header!r}"


# ---------------------------------------------------------------------------------------------------------
# numerics: distances at the ends of the float range
# ---------------------------------------------------------------------------------------------------------


def _distances():
    from heavytail_diffusion.diagnostics.distances import (
        energy_distance,
        max_sliced_wasserstein,
        mmd,
        sliced_wasserstein,
        wasserstein_1d,
    )

    return {
        "sliced W2": (lambda a, b: sliced_wasserstein(a, b, n_projections=50), 1),
        "max-sliced W2": (lambda a, b: max_sliced_wasserstein(a, b, n_candidates=64), 1),
        "W1": (lambda a, b: wasserstein_1d(a[:, 0], b[:, 0], p=1), 1),
        "energy": (lambda a, b: energy_distance(a, b, n_projections=20), 1),
        "MMD": (mmd, 0),
    }


for _metric in ("sliced W2", "max-sliced W2", "W1", "energy", "MMD"):
    for _scale in (1e-300, 1e200):

        def _distance_attack(ws, metric=_metric, scale=_scale):
            f, degree = _distances()[metric]
            rng = np.random.default_rng(5)
            x, y = rng.standard_t(3, (200, 2)), 1.3 * rng.standard_t(3, (150, 2))
            base = f(x, y)
            kind, res = api(lambda: f(x * scale, y * scale))
            if kind == "error":
                return "clear", str(res)[:200]
            if kind == "traceback":
                return kind, res
            value = res[0]
            rel = value / scale**degree / base if np.isfinite(value) else np.nan
            if not (np.isfinite(value) and abs(rel - 1) < 1e-6):
                return "silent", f"{value!r} (expected {base * scale**degree:.4g})"
            return "handled", f"{value:.4g} = {rel:.12f} x the scaled value"

        attack("numerics", f"{_metric} at {_scale:g}")(_distance_attack)


# ---------------------------------------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------------------------------------


@attack("messages", "fit --help points to --list-models")
def _(ws):
    rc, err, out = cli(["fit", "--help"])
    if "--list-models" not in out:
        return "handled", "no pointer"
    rc, err, out = cli(["fit", "--list-models"])
    if rc == 0 and "evt-t-copula" in out:
        return "handled", "fit --list-models lists the generators"
    return "unclear", f"`fit --list-models`: {_error_line(err)[:160]}"


@attack("messages", "numpy RuntimeWarnings reach the CLI user")
def _(ws):
    from heavytail_diffusion.cli import datasets

    orig = datasets.run

    def noisy(args):
        np.exp(np.array([1000.0]))  # overflow encountered in exp
        np.log(np.array([0.0]))  # divide by zero encountered in log
        return orig(args)

    datasets.run = noisy
    try:
        rc, err, _ = cli(["datasets", "--path", "danish"])
    finally:
        datasets.run = orig
    if "encountered in" in err:
        return "unclear", _error_line(err) or err.strip().splitlines()[0][:160]
    return ("handled", "hidden (shown with --debug)") if rc == 0 else judge_error(rc, err)


# ---------------------------------------------------------------------------------------------------------
# run and report
# ---------------------------------------------------------------------------------------------------------


def run_all() -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp))
        shutil.copy(ws / "train.csv", ws / "train_backup.csv")
        for group, name, fn in ATTACKS:
            t0 = time.perf_counter()
            try:
                outcome, detail = fn(ws)
            except Exception as exc:  # noqa: BLE001 (a broken attack is reported, never hidden)
                outcome, detail = "traceback", f"attack failed: {type(exc).__name__}: {exc}"[:200]
            results.append({"group": group, "attack": name, "outcome": outcome, "detail": str(detail),
                            "seconds": round(time.perf_counter() - t0, 2)})  # fmt: skip
            print(f"{outcome:>9}  {group:<13} {name}: {str(detail)[:110]}", flush=True)
    return results


def counts(results: list[dict]) -> dict:
    c = Counter(r["outcome"] for r in results)
    return {"tried": len(results), **{o: c.get(o, 0) for o in OUTCOMES}}


def markdown(after: list[dict], before: list[dict] | None, before_label: str) -> str:
    intro = (
        "Generated by `analyses/attacks.py` (in-process CLI and Python API, small data, about a minute on one "
        "core). Outcomes: see the script's docstring; `traceback`, `silent`, `data-loss`, `unclear` and "
        "`late` should all be 0."
    )
    lines = ["# Attack re-run (issue 13)", "", intro, ""]
    rows = [("after", counts(after))]
    if before is not None:
        rows.insert(0, (f"before ({before_label})", counts(before)))
    header = ["run", "tried", *OUTCOMES]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([label, *(str(c[k]) for k in header[1:])]) + " |" for label, c in rows]
    lines += ["", "## Every attack", "", "| group | attack | before | after | after: message or result |",
              "|---|---|---|---|---|"]  # fmt: skip
    prior = {(r["group"], r["attack"]): r["outcome"] for r in before or []}
    for r in after:
        detail = r["detail"].replace("|", "\\|").replace("\n", " ")[:200]
        lines.append(f"| {r['group']} | {r['attack']} | {prior.get((r['group'], r['attack']), '-')} | "
                     f"{r['outcome']} | {detail} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--before", help="JSON results of an earlier run, shown as the 'before' column")
    parser.add_argument("--before-label", default="start commit", help="label of the --before run")
    parser.add_argument("--out", help="write the Markdown report here")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    results = run_all()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    before = json.loads(Path(args.before).read_text()) if args.before else None
    report = markdown(results, before, args.before_label)
    if args.out:
        Path(args.out).write_text(report)
    print("\n" + report.split("## Every attack")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
