"""Every bad input file or argument gives a one-line `heavytail <cmd>: error: ...` and exit status 2.

A few cases run the real command in a subprocess (what a user sees, ~2 s each); the rest call
``heavytail_diffusion.cli.main`` in-process. The table of cases is in docs/robustness.md.
"""

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from heavytail_diffusion.cli import main

# ---- files ------------------------------------------------------------------------------------------------


def _table(n: int, header: str = "loss,alae", cell: tuple[int, int, str] | None = None) -> str:
    """CSV text with ``n`` data rows; ``cell = (row, col, text)`` replaces one cell (row 0 = first data row)."""
    rows = [[f"{1.5 * (i + 1) + 0.25}", f"{2.5 * (i + 1) ** 1.5:.4f}"] for i in range(n)]
    if cell is not None:
        rows[cell[0]][cell[1]] = cell[2]
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


class _Evil:
    """Unpickling this would create the file named ``_Evil.target``."""

    target = ""

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad (and one good) data files and model folders, written once for the module."""
    d = tmp_path_factory.mktemp("bad")
    f = {}

    def text(name, content):
        (d / name).write_text(content)
        f[name.split(".")[0]] = d / name

    text("empty.csv", "")
    text("header_only.csv", "loss,alae\n")
    text("nan_cell.csv", _table(30, cell=(5, 1, "nan")))  # 6th data row = line 7 of the file
    text("inf_cell.csv", _table(30, cell=(6, 0, "inf")))
    text("text_cell.csv", _table(30, cell=(8, 1, "oops")))
    text("constant.csv", "loss,const\n" + "".join(f"{i + 1.5},3\n" for i in range(30)))
    text("five_rows.csv", _table(5))
    text("duplicate_names.csv", _table(30, header="loss,loss"))
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    f["binary"] = d / "binary.csv"
    f["missing"] = d / "no_such_file.csv"
    f["directory"] = d
    rng = np.random.default_rng(0)
    good = d / "good.csv"
    pd.DataFrame(
        {"loss": np.exp(rng.standard_t(3, 200)), "alae": rng.standard_t(3, 200), "label": ["x"] * 200}
    ).to_csv(good, index=False)
    f["good"] = good
    # a saved model and broken copies of it
    model = d / "model"
    assert (
        main(["fit", str(good), "--columns", "loss,alae", "--model", "evt-t-copula", "--out", str(model)]) == 0
    )
    f["model"] = model
    trunc = d / "model_truncated"
    shutil.copytree(model, trunc)
    data = (trunc / "tensors.pt").read_bytes()
    (trunc / "tensors.pt").write_bytes(data[: len(data) // 2])
    f["model_truncated"] = trunc
    other = d / "model_other_tool"
    other.mkdir()
    (other / "model.json").write_text(json.dumps({"format": "sklearn-skops", "version": 3, "model": "Ridge"}))
    (other / "tensors.pt").write_bytes(b"\x00" * 64)
    f["model_other_tool"] = other
    newer = d / "model_newer"
    shutil.copytree(model, newer)
    manifest = json.loads((newer / "model.json").read_text())
    manifest["format_version"] = 99
    (newer / "model.json").write_text(json.dumps(manifest))
    f["model_newer"] = newer
    # a pickle passed as a model (a file) and a model folder whose tensors.pt is a pickle with a valid checksum
    _Evil.target = str(d / "PWNED")
    (d / "evil.pkl").write_bytes(pickle.dumps(_Evil()))
    f["pickle_file"] = d / "evil.pkl"
    pk = d / "model_pickled"
    shutil.copytree(model, pk)
    torch.save({"w": _Evil()}, pk / "tensors.pt")
    manifest = json.loads((pk / "model.json").read_text())
    manifest["tensors_sha256"] = hashlib.sha256((pk / "tensors.pt").read_bytes()).hexdigest()
    (pk / "model.json").write_text(json.dumps(manifest))
    f["model_pickled"] = pk
    f["pwned"] = d / "PWNED"
    return f


def _check_one_line(err: str, cmd: str, *needles: str, warnings: int = 0) -> None:
    """``err`` is ``warnings`` one-line warnings, then one line ``heavytail <cmd>: error: ...``."""
    lines = err.splitlines()
    assert len(lines) == warnings + 1 and err.endswith("\n"), err
    assert all(line.startswith("WARNING: ") for line in lines[:-1]), err
    assert lines[-1].startswith(f"heavytail {cmd}: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


# ---- subprocess: the real command ------------------------------------------------------------------------

SUBPROCESS_CASES = [
    # (id, argv with {name} placeholders for files, words the message must contain)
    ("missing-file", ["diagnose", "{missing}"], ["no_such_file.csv", "file not found"]),
    ("nan-cell", ["diagnose", "{nan_cell}"], ["column 'alae'", "row 6 of the data", "line 7", "--dropna"]),
    (
        "text-cell",
        ["fit", "{text_cell}", "--columns", "loss,alae", "--out", "{tmp}/m"],
        ["'oops'", "column 'alae'"],
    ),
    (
        "pickle-model",
        ["sample", "{model_pickled}", "-n", "10", "--out", "{tmp}/s.csv"],
        ["pickled", "execute code"],
    ),
    # good.csv has a text column 'label': a one-line warning says it is skipped, then the model's error
    (
        "skipped-column-warning",
        ["fit", "{good}", "--sigma-T", "0.001", "--param", "progress=false", "--out", "{tmp}/m"],
        ["sigma_T", "0.002", "'label'"],
    ),
]


def _run_cli(argv: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "heavytail_diffusion", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "needles"), [c[1:] for c in SUBPROCESS_CASES], ids=[c[0] for c in SUBPROCESS_CASES]
)
def test_subprocess_one_line_error(files, tmp_path, argv, needles):
    names = {k: str(v) for k, v in files.items()} | {"tmp": str(tmp_path)}
    proc = _run_cli([a.format(**names) for a in argv])
    assert proc.returncode == 2, proc.stderr
    _check_one_line(proc.stderr, argv[0], *needles, warnings=int("{good}" in argv))
    assert not (tmp_path / "m").exists() and not (tmp_path / "s.csv").exists()
    assert not files["pwned"].exists()


def test_subprocess_debug_shows_traceback(files):
    proc = _run_cli(["--debug", "diagnose", str(files["missing"])])
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "DataError" in proc.stderr and "no_such_file.csv" in proc.stderr


# ---- in-process: every other case ------------------------------------------------------------------------

INPROCESS_CASES = [
    ("empty-file", ["fit", "{empty}", "--out", "{tmp}/m"], ["empty.csv", "empty"]),
    ("binary-file", ["compare", "{binary}", "--out", "{tmp}/r"], ["binary.csv", "not a text file"]),
    ("truncated-model", ["sample", "{model_truncated}", "-n", "10", "--out", "{tmp}/s.csv"], ["checksum"]),
    ("n-zero", ["sample", "{model}", "-n", "0", "--out", "{tmp}/s.csv"], ["-n", "got 0"]),
    ("diagnose-header-only", ["diagnose", "{header_only}"], ["header_only.csv", "no data rows"]),
    ("fit-header-only", ["fit", "{header_only}", "--out", "{tmp}/m"], ["no data rows"]),
    ("diagnose-empty", ["diagnose", "{empty}"], ["empty.csv", "empty"]),
    ("compare-missing", ["compare", "{missing}", "--out", "{tmp}/r"], ["no_such_file.csv", "not found"]),
    ("fit-nan", ["fit", "{nan_cell}", "--model", "evt-t-copula", "--out", "{tmp}/m"], ["column 'alae'", "NaN"]),
    ("compare-nan", ["compare", "{nan_cell}", "--out", "{tmp}/r"], ["column 'alae'", "--dropna"]),
    ("diagnose-inf", ["diagnose", "{inf_cell}"], ["column 'loss'", "+inf", "row 7 of the data", "line 8"]),
    ("fit-inf", ["fit", "{inf_cell}", "--model", "evt-t-copula", "--out", "{tmp}/m"], ["column 'loss'", "inf"]),
    (
        "diagnose-text",
        ["diagnose", "{text_cell}", "--columns", "alae"],
        ["column 'alae'", "'oops'", "row 9 of the data"],
    ),
    ("diagnose-constant", ["diagnose", "{constant}"], ["column 'const'", "constant"]),
    (
        "fit-constant",
        ["fit", "{constant}", "--model", "evt-t-copula", "--out", "{tmp}/m"],
        ["column 'const'", "constant"],
    ),
    ("diagnose-five-rows", ["diagnose", "{five_rows}"], ["only 5 rows", "at least 20"]),
    ("fit-five-rows", ["fit", "{five_rows}", "--model", "evt-t-copula", "--out", "{tmp}/m"], ["only 5 rows"]),
    ("diagnose-duplicates", ["diagnose", "{duplicate_names}"], ["duplicate column name 'loss'"]),
    ("fit-duplicates", ["fit", "{duplicate_names}", "--out", "{tmp}/m"], ["duplicate column name 'loss'"]),
    (
        "diagnose-unknown-column",
        ["diagnose", "{good}", "--columns", "loss,nope"],
        ["no column named 'nope'", "'alae'"],
    ),
    (
        "fit-unknown-column",
        ["fit", "{good}", "--columns", "nope", "--out", "{tmp}/m"],
        ["no column named 'nope'"],
    ),
    ("compare-unknown-column", ["compare", "{good}", "--columns", "nope", "--out", "{tmp}/r"], ["nope"]),
    ("diagnose-binary", ["diagnose", "{binary}"], ["not a text file"]),
    ("diagnose-directory", ["diagnose", "{directory}"], ["is a directory"]),
    ("fit-directory", ["fit", "{directory}", "--out", "{tmp}/m"], ["is a directory"]),
    ("sample-missing-model", ["sample", "{missing}", "-n", "5", "--out", "{tmp}/s.csv"], ["does not exist"]),
    (
        "sample-data-file-as-model",
        ["sample", "{good}", "-n", "5", "--out", "{tmp}/s.csv"],
        ["not a model folder"],
    ),
    (
        "sample-pickle-file",
        ["sample", "{pickle_file}", "-n", "5", "--out", "{tmp}/s.csv"],
        ["not a model folder"],
    ),
    (
        "sample-other-tool",
        ["sample", "{model_other_tool}", "-n", "5", "--out", "{tmp}/s.csv"],
        ["another tool"],
    ),
    (
        "sample-newer-format",
        ["sample", "{model_newer}", "-n", "5", "--out", "{tmp}/s.csv"],
        ["version 99", "upgrade"],
    ),
    ("sample-n-negative", ["sample", "{model}", "-n", "-5", "--out", "{tmp}/s.csv"], ["-n", "got -5"]),
    ("sample-out-is-folder", ["sample", "{model}", "-n", "5", "--out", "{tmp}"], ["is a folder"]),
    (
        "sample-steps-for-evt",
        ["sample", "{model}", "-n", "5", "--steps", "3", "--out", "{tmp}/s.csv"],
        ["steps"],
    ),
    ("sigma-T-text", ["fit", "{good}", "--sigma-T", "abc", "--out", "{tmp}/m"], ["--sigma-T", "'abc'"]),
    ("fit-sigma-T-negative", ["fit", "{good}", "--sigma-T", "-1", "--out", "{tmp}/m"], ["--sigma-T", "'-1'"]),
    (
        "fit-sigma-T-tiny",
        ["fit", "{good}", "--sigma-T", "0.001", "--out", "{tmp}/m", "--param", "progress=false"],
        ["sigma_T", "0.002"],
    ),
    (
        "fit-unknown-model",
        ["fit", "{good}", "--model", "bogus", "--out", "{tmp}/m"],
        ["unknown model 'bogus'"],
    ),
    (
        "fit-unknown-param",
        ["fit", "{good}", "--model", "evt-t-copula", "--param", "depth=3", "--out", "{tmp}/m"],
        ["no parameter(s) ['depth']"],
    ),
    (
        "fit-log-negative",
        ["fit", "{good}", "--preprocessing", "log", "--model", "evt-t-copula", "--out", "{tmp}/m"],
        ["column 'alae'", "non-positive", "'log'"],
    ),
    ("fit-bad-preprocessing", ["fit", "{good}", "--preprocessing", "cube", "--out", "{tmp}/m"], ["'cube'"]),
    ("compare-unknown-model", ["compare", "{good}", "--models", "bogus", "--out", "{tmp}/r"], ["bogus"]),
    ("datasets-unknown", ["datasets", "--path", "no-such-dataset"], ["no-such-dataset"]),
]


@pytest.mark.parametrize(
    ("argv", "needles"), [c[1:] for c in INPROCESS_CASES], ids=[c[0] for c in INPROCESS_CASES]
)
def test_inprocess_one_line_error(files, tmp_path, capsys, argv, needles):
    names = {k: str(v) for k, v in files.items()} | {"tmp": str(tmp_path)}
    rc = main([a.format(**names) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2, err
    _check_one_line(err, argv[0], *needles)
    assert (
        not (tmp_path / "m").exists() and not (tmp_path / "s.csv").exists() and not (tmp_path / "r").exists()
    )
    assert not files["pwned"].exists()


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["sample", "{model}", "-n", "abc", "--out", "x.csv"], ["argument -n", "'abc'", "--help"]),
        (["fit", "{good}"], ["--out"]),
        (["diagnose", "{good}", "--tail", "sideways"], ["--tail", "'sideways'"]),
    ],
    ids=["n-not-int", "fit-without-out", "bad-choice"],
)
def test_usage_errors_are_one_line(files, capsys, argv, needles):
    names = {k: str(v) for k, v in files.items()}
    with pytest.raises(SystemExit) as info:
        main([a.format(**names) for a in argv])
    assert info.value.code == 2
    _check_one_line(capsys.readouterr().err, argv[0], *needles)


def test_sample_creates_the_output_folder(files, tmp_path, capsys):
    out = tmp_path / "new" / "dir" / "s.csv"
    assert main(["sample", str(files["model"]), "-n", "7", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert frame.shape == (7, 2) and list(frame.columns) == ["loss", "alae"]
    assert np.isfinite(frame.to_numpy()).all()


def test_debug_reraises_in_process(files):
    with pytest.raises(Exception, match="checksum"):
        main(["--debug", "sample", str(files["model_truncated"]), "-n", "5", "--out", "x.csv"])


def test_pickle_is_never_executed(files):
    assert files["pickle_file"].is_file() and files["model_pickled"].is_dir()
    assert not files["pwned"].exists()


# ---- issue 13: outputs never overwrite inputs or existing outputs; --out checked before any fit ----------


def _digest(path):
    if path.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(path.iterdir())]
    return path.read_bytes()


@pytest.fixture
def fit_calls(monkeypatch):
    """Counts GenerativeModel.fit calls (to prove an --out error comes before any fitting)."""
    from heavytail_diffusion.models import GenerativeModel

    calls = []
    orig = GenerativeModel.fit

    def counting(self, *a, **kw):
        calls.append(1)
        return orig(self, *a, **kw)

    monkeypatch.setattr(GenerativeModel, "fit", counting)
    return calls


@pytest.mark.parametrize(
    ("argv", "protected", "needles"),
    [
        (["sample", "{model}", "-n", "5", "--out", "{good}"], "good", ["already exists", "--force"]),
        (["sample", "{model}", "-n", "5", "--out", "{model}/model.json"], "model", ["would overwrite the input"]),
        (["fit", "{good}", "--model", "evt-t-copula", "--out", "{model}"], "model", ["already exists", "--force"]),
        (["fit", "{good}", "--model", "evt-t-copula", "--out", "{good}"], "good", ["would overwrite the input"]),
        (["fit", "{good}", "--model", "evt-t-copula", "--out", "{directory}", "--force"], "good",
         ["would overwrite the input"]),
        (["fit", "{good}", "--model", "evt-t-copula", "--out", "{empty}/m"], "good", ["is a file, not a folder"]),
    ],
    ids=["sample-over-data", "sample-into-model", "fit-over-model", "fit-over-input", "fit-over-input-folder",
         "fit-under-a-file"],
)  # fmt: skip
def test_outputs_never_overwrite_and_fail_before_fitting(files, capsys, fit_calls, argv, protected, needles):
    names = {k: str(v) for k, v in files.items()}
    before = _digest(files[protected])
    rc = main([a.format(**names) for a in argv])
    _check_one_line(capsys.readouterr().err, argv[0], *needles)
    assert rc == 2 and _digest(files[protected]) == before and not fit_calls


def test_force_replaces_an_existing_output_but_never_a_non_model_folder(files, tmp_path, capsys):
    out = tmp_path / "s.csv"
    out.write_text("old\n")
    assert main(["sample", str(files["model"]), "-n", "4", "--out", str(out), "--force"]) == 0
    assert pd.read_csv(out).shape == (4, 2)
    model = tmp_path / "m"
    shutil.copytree(files["model"], model)
    argv = ["fit", str(files["good"]), "--columns", "loss,alae", "--model", "evt-t-copula", "--out", str(model)]
    assert main([*argv, "--param", "copula=gaussian", "--force"]) == 0
    assert json.loads((model / "model.json").read_text())["config"]["params"]["copula"] == "gaussian"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "s.csv"]  # no temporary folder or lock left
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"x")
    assert main([*argv[:-1], str(photos), "--force"]) == 2
    assert "not a model folder; refusing to replace it" in capsys.readouterr().err
    assert (photos / "a.jpg").read_bytes() == b"x"


def test_a_second_fit_to_a_folder_being_written_fails_at_once(files, tmp_path, capsys):
    import threading

    from heavytail_diffusion.persistence import folder_lock

    out = tmp_path / "m"
    rcs = []
    with folder_lock(out):  # another writer (here: another thread) holds the folder
        t = threading.Thread(
            target=lambda: rcs.append(
                main(["fit", str(files["good"]), "--model", "evt-t-copula", "--out", str(out)])
            )
        )
        t.start()
        t.join()
    assert rcs == [2] and not out.exists()
    _check_one_line(capsys.readouterr().err, "fit", "being written by another process", ".m.lock")


# ---- issue 13: typed --param values, --steps, --list-models ----------------------------------------------


@pytest.mark.parametrize(
    ("param", "needles"),
    [
        ("width=abc", ["--param width expects an integer", "'abc'"]),
        ("lr=abc", ["--param lr expects a number", "'abc'"]),
        ("lr=nan", ["--param lr expects a finite number"]),
        ("quick=maybe", ["--param quick expects true or false", "'maybe'"]),
        ("train_steps=1.5", ["--param train_steps expects an integer"]),
        ("sigma_T=none", ["sigma_T must be 'auto' or a positive number", "'none'"]),
        ("prior_params=3", ["--param prior_params expects a JSON object"]),
        ("mults=1,x", ["--param mults expects an integer", "'x'"]),
        ("nope=1", ["no parameter(s) ['nope']"]),
    ],
)
def test_param_values_are_typed_per_parameter(files, tmp_path, capsys, param, needles):
    argv = [
        "fit",
        str(files["good"]),
        "--columns",
        "loss,alae",
        "--param",
        param,
        "--param",
        "progress=false",
        "--out",
        str(tmp_path / "m"),
    ]
    assert main(argv) == 2
    _check_one_line(capsys.readouterr().err, "fit", *needles)
    assert not (tmp_path / "m").exists()


def test_param_strings_are_kept_where_the_parameter_is_a_string():
    from heavytail_diffusion.baselines import EVTCopulaBaseline
    from heavytail_diffusion.cli._common import parse_model_params
    from heavytail_diffusion.models import TruncatedDiffusion

    assert parse_model_params(["preprocessing=none"], EVTCopulaBaseline) == {"preprocessing": "none"}
    got = parse_model_params(
        ["preprocessing=log,robust", "sigma_T=auto", "quick=true", "width=none", "mults=1,2",
         'prior_params={"tail_fraction": 0.1}', "lr=3e-4", "seed=7"],
        TruncatedDiffusion,
    )  # fmt: skip
    assert got == {"preprocessing": ["log", "robust"], "sigma_T": "auto", "quick": True, "width": None,
                   "mults": [1, 2], "prior_params": {"tail_fraction": 0.1}, "lr": 3e-4, "seed": 7}  # fmt: skip
    assert parse_model_params(["sigma_T=0.7"], TruncatedDiffusion) == {"sigma_T": 0.7}


def test_fit_with_preprocessing_none_param_works(files, tmp_path):
    out = tmp_path / "m"
    argv = ["fit", str(files["good"]), "--columns", "loss,alae", "--model", "evt-t-copula"]
    assert main([*argv, "--param", "preprocessing=none", "--out", str(out)]) == 0
    assert json.loads((out / "model.json").read_text())["config"]["preprocessor"]["methods"] == [
        "none",
        "none",
    ]


@pytest.mark.parametrize("steps", ["0", "-3"])
def test_sample_steps_must_be_positive(files, capsys, steps):
    with pytest.raises(SystemExit) as info:
        main(["sample", str(files["model"]), "-n", "5", "--steps", steps, "--out", "x.csv"])
    assert info.value.code == 2
    _check_one_line(capsys.readouterr().err, "sample", "--steps", f"must be a positive integer, got {steps}")


def test_fit_list_models_exists_and_help_points_to_it(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", "--list-models"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "evt-t-copula" in out and "truncated" in out and "parameters:" in out
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    assert "--list-models" in capsys.readouterr().out


def test_numpy_warnings_never_reach_the_user(monkeypatch, capsys):
    from heavytail_diffusion.cli import datasets

    orig = datasets.run

    def noisy(args):
        np.exp(np.array([1000.0]))
        np.log(np.array([0.0]))
        return orig(args)

    monkeypatch.setattr(datasets, "run", noisy)
    assert main(["datasets", "--path", "danish"]) == 0
    assert capsys.readouterr().err == ""
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        main(["--debug", "datasets", "--path", "danish"])


# ---- issue 13: tampered model folders name the folder; CSV headers are safe --------------------------------


def _tampered(files, tmp_path, edit_tensors=None, edit_config=None):
    path = tmp_path / "tampered"
    shutil.copytree(files["model"], path)
    manifest = json.loads((path / "model.json").read_text())
    if edit_tensors is not None:
        state = torch.load(path / "tensors.pt", weights_only=True)
        edit_tensors(state)
        torch.save(state, path / "tensors.pt")
        manifest["tensors_sha256"] = hashlib.sha256((path / "tensors.pt").read_bytes()).hexdigest()
    if edit_config is not None:
        edit_config(manifest)
    (path / "model.json").write_text(json.dumps(manifest))
    return path


def _corr_1_5(state):
    key = next(k for k in state if k.endswith("corr"))
    state[key] = state[key].clone()
    state[key][0, 1] = state[key][1, 0] = 1.5


@pytest.mark.parametrize(
    ("tensors", "config", "needle"),
    [
        (lambda s: s.update({"preprocessor.scale": s["preprocessor.scale"] * 0}), None, "scale > 0"),
        (lambda s: s.update({"preprocessor.loc": s["preprocessor.loc"].repeat(2)[:3]}), None, "shapes"),
        (_corr_1_5, None, "correlation"),
        (None, lambda m: m["config"]["preprocessor"].update(methods=["cube", "robust"]), "'cube'"),
        (None, lambda m: m.update(format_version=True), "invalid format version"),
    ],
    ids=["scale-zero", "loc-shape", "corr-not-pd", "cube", "version-true"],
)
def test_tampered_folders_name_the_folder(files, tmp_path, capsys, tensors, config, needle):
    path = _tampered(files, tmp_path, tensors, config)
    assert main(["sample", str(path), "-n", "5", "--out", str(tmp_path / "s.csv")]) == 2
    _check_one_line(capsys.readouterr().err, "sample", str(path), needle)
    assert not (tmp_path / "s.csv").exists()


def test_formula_column_names_are_neutralised_in_the_csv_header(files, tmp_path, monkeypatch):
    import warnings

    said = []
    warn = warnings.warn
    monkeypatch.setattr(warnings, "warn", lambda msg, *a, **kw: (said.append(str(msg)), warn(msg, *a, **kw)))
    names = ["../../etc/passwd", "=cmd|' /C calc'!A0"]

    def rename(manifest):
        manifest["config"]["columns"] = names
        for spec, name in zip(
            manifest["config"].get("encoder", {}).get("schema", {}).get("columns", []), names
        ):
            spec["name"] = name

    path = _tampered(files, tmp_path, edit_config=rename)
    out = tmp_path / "s.csv"
    assert main(["sample", str(path), "-n", "5", "--out", str(out)]) == 0
    assert list(pd.read_csv(out).columns) == ["../../etc/passwd", "'=cmd|' /C calc'!A0"]
    assert any("formula character" in m for m in said)  # one WARNING line in the CLI
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "tampered"]  # nothing written elsewhere


def test_fit_and_sample_accept_the_old_model_name_with_a_warning(files, tmp_path, capsys, caplog):
    """``--model evt-copula`` (the name of evt-t-copula before it was renamed): fitted and saved under the
    new name, with the deprecation shown (stderr, through logging); `fit --list-models` lists the model once."""
    out = tmp_path / "m"
    argv = ["fit", str(files["good"]), "--columns", "loss,alae", "--model", "evt-copula", "--out", str(out)]
    with warnings.catch_warnings(record=True) as rec:  # shown via logging, or recorded here (pytest's state)
        assert main(argv) == 0
    cap = capsys.readouterr()
    shown = cap.err + caplog.text + " ".join(str(w.message) for w in rec)
    assert "'evt-copula' is deprecated; use 'evt-t-copula'" in shown and "fitted 'evt-t-copula'" in cap.out
    assert json.loads((out / "model.json").read_text())["model"] == "evt-t-copula"
    with pytest.raises(SystemExit):
        main(["fit", "--list-models"])
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert listed.count("evt-t-copula") == 1 and "evt-copula" not in listed
