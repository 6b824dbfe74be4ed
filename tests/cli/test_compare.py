"""Tests of `heavytail compare`: report folder, JSON output, one-line errors with exit status 2."""

import json

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


def test_compare_writes_report(csv, tmp_path, capsys):
    out = tmp_path / "rep"
    args = [str(csv), "--columns", "a,b", "--models", "evt-copula,flow", "--param", "flow:flow_steps=15"]
    rc = main(["compare", *args, "--quick", "--n-samples", "500", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "report:" in text and "evt-copula" in text and "flow" in text
    for f in ("metrics.csv", "summary.csv", "report.md", "report.html", "tails_a.png", "chi_a_b.png"):
        assert (out / f).is_file(), f
    assert set(pd.read_csv(out / "metrics.csv").model) == {"evt-copula", "flow"}


def test_compare_json(csv, tmp_path, capsys):
    rc = main(["compare", str(csv), "--columns", "a,b", "--models", "evt-copula", "--quick", "--n-samples", "300",
               "--out", str(tmp_path / "r"), "--json"])  # fmt: skip
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in doc["summary"]] == ["evt-copula"]
    assert {m["metric"] for m in doc["metrics"]} >= {"tail_ks", "hill_xi", "max_sliced_w2_slog", "chi"}
    assert doc["info"]["n_test"] == 90


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "evt-copula,bogus"], "unknown model(s) ['bogus']"),
        (["--columns", "a,nope"], "nope"),
        (["--models", "evt-copula", "--param", "steps=3"], "MODEL:KEY=VALUE"),
    ],
)
def test_errors_are_one_line(csv, tmp_path, capsys, extra, message):
    rc = main(["compare", str(csv), *extra, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("heavytail compare: error:") and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "r").exists()
