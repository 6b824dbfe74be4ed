"""Tests of `heavytail compare`: scorecard report, JSON output, one-line errors with exit status 2."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.cli import main


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    z = rng.standard_t(3, size=(300, 2))
    path = tmp_path_factory.mktemp("data") / "d.csv"
    pd.DataFrame({"a": z[:, 0], "b": np.exp(z[:, 1]), "label": ["x"] * 300}).to_csv(path, index=False)
    return path


def test_compare_writes_report(csv, tmp_path, capsys, caplog):
    out = tmp_path / "rep"
    args = [str(csv), "--columns", "a,b", "--models", "evt-copula,flow", "--param", "flow:flow_steps=15"]
    with warnings.catch_warnings(record=True) as rec:  # shown via logging, or recorded here (pytest's state)
        rc = main(
            [
                "compare",
                *args,
                "--quick",
                "--splits",
                "2",
                "--workers",
                "1",
                "--n-samples",
                "500",
                "--out",
                str(out),
            ]
        )
    cap = capsys.readouterr()
    text = cap.out
    assert rc == 0
    shown = cap.err + caplog.text + " ".join(str(w.message) for w in rec)
    assert "'evt-copula' is deprecated; use 'evt-t-copula'" in shown  # the old name: accepted, with a warning
    assert (
        "report:" in text and "evt-t-copula" in text and "(noise floor)" in text and "Over 2 splits" in text
    )
    assert "warning: only 90 test rows" in text
    for f in (
        "metrics.csv",
        "summary.csv",
        "per_split.csv",
        "report.md",
        "report.html",
        "tails_a.png",
        "chi_a_b.png",
    ):
        assert (out / f).is_file(), f
    assert set(pd.read_csv(out / "metrics.csv").model) == {"evt-t-copula", "flow"}


def test_compare_json(csv, tmp_path, capsys):
    rc = main(["compare", str(csv), "--columns", "a,b", "--models", "evt-t-copula", "--quick", "--n-samples", "300",
               "--splits", "2", "--workers", "1", "--out", str(tmp_path / "r"), "--json"])  # fmt: skip
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in doc["summary"]] == ["evt-t-copula"]
    assert {m["metric"] for m in doc["metrics"]} >= {"survival_area", "hill_xi", "max_sliced_w2_slog", "chi"}
    # 2 splits were scored (not only recorded: the info echoed the argument), 90 test rows each (0.3 of 300)
    assert sorted({m["split"] for m in doc["metrics"]}) == [0, 1] and doc["info"]["n_test"] == 90
    assert doc["verdict"].startswith("Over 2 splits, **evt-t-copula** ranks first")


def test_compare_every_model_failing_is_not_a_traceback(csv, tmp_path, capsys):
    rc = main(["compare", str(csv), "--columns", "a,b", "--models", "oracle-start", "--quick", "--splits", "1",
               "--workers", "1", "--out", str(tmp_path / "r")])  # fmt: skip
    cap = capsys.readouterr()
    assert rc == 0 and "oracle-start (failed [1])" in cap.out and "No model produced samples" in cap.out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "evt-t-copula,bogus"], "unknown model(s) ['bogus']"),
        (["--columns", "a,nope"], "nope"),
        (["--models", "evt-t-copula", "--param", "steps=3"], "MODEL:KEY=VALUE"),
        (["--models", "evt-t-copula", "--param", "flow:flow_steps=abc"], "flow_steps"),
    ],
)
def test_errors_are_one_line(csv, tmp_path, capsys, extra, message):
    rc = main(["compare", str(csv), *extra, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("heavytail compare: error:") and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "r").exists()
