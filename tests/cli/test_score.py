"""Tests of `heavytail score`: scorecard of synthetic files, column matching by name, one-line errors."""

import json

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(0)
    d = tmp_path_factory.mktemp("score")
    pd.DataFrame({"loss": np.exp(rng.standard_t(3, 500)), "ret": rng.standard_t(3, 500)}).to_csv(
        d / "real.csv", index=False
    )
    pd.DataFrame({"ret": rng.standard_t(3, 3000), "loss": np.exp(rng.standard_t(3, 3000))}).to_csv(
        d / "good.csv", index=False
    )
    pd.DataFrame({"loss": np.exp(rng.normal(size=3000)), "ret": rng.normal(size=3000)}).to_parquet(
        d / "light.parquet"
    )
    pd.DataFrame({"Loss": np.exp(rng.standard_t(3, 300)), "ret": rng.standard_t(3, 300)}).to_csv(
        d / "renamed.csv", index=False
    )
    pd.DataFrame({"loss": np.exp(rng.standard_t(3, 300))}).to_csv(d / "missing.csv", index=False)
    pd.DataFrame({"loss": np.exp(rng.standard_t(3, 300)), "ret": rng.standard_t(3, 300), "extra": 1.0}).to_csv(
        d / "extra.csv", index=False)  # fmt: skip
    return d


def test_score_prints_the_scorecard_and_writes_a_report(files, tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["score", str(files / "real.csv"), str(files / "good.csv"), str(files / "light.parquet"),
               "--names", "good,light", "--splits", "3", "--quick", "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert rc == 0
    assert "(noise floor)" in text and "ranks first" in text and "report:" in text
    rows = [ln.split()[0] for ln in text.splitlines() if ln.split() and ln.split()[0] in ("good", "light")]
    assert rows == ["good", "light"]  # the right tails rank first
    for f in ("summary.csv", "per_split.csv", "report.md", "report.html", "scorecard.png", "tails_loss.png"):
        assert (out / f).is_file(), f
    # an existing report folder is not overwritten without --force
    rc = main(["score", str(files / "real.csv"), str(files / "good.csv"), "--out", str(out)])
    assert rc == 2 and "--force" in capsys.readouterr().err


def test_score_json(files, capsys):
    rc = main(
        ["score", str(files / "real.csv"), str(files / "good.csv"), "--splits", "2", "--quick", "--json"]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in doc["summary"]] == ["good"]
    assert doc["verdict"].startswith("Over 2 splits") and doc["report"] is None


@pytest.mark.parametrize(
    ("synth", "message"),
    [
        ("renamed.csv", "lacks column(s) ['loss'] of the real data (renamed? 'loss' -> 'Loss'?)"),
        ("missing.csv", "lacks column(s) ['ret']"),
        ("extra.csv", "has column(s) ['extra'] that the real data"),
        ("nope.csv", "nope.csv: file not found"),
    ],
)
def test_score_column_errors_are_one_line(files, capsys, synth, message):
    rc = main(["score", str(files / "real.csv"), str(files / synth)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("heavytail score: error:") and message in err and err.count("\n") == 1
    assert synth in err


def test_score_columns_subset_allows_extra_columns(files, capsys):
    rc = main(["score", str(files / "real.csv"), str(files / "extra.csv"), "--columns", "loss,ret", "--splits", "2",
               "--quick"])  # fmt: skip
    text = capsys.readouterr().out
    # the file (named after its stem) is scored: a scorecard row of its own, ranked first as the only set
    rows = [ln.split()[0] for ln in text.splitlines() if ln.split() and ln.split()[0] in ("extra", "(noise")]
    assert rc == 0 and rows == ["extra", "(noise"] and "extra ranks first" in text


def test_score_names_must_match_the_files(files, capsys):
    rc = main(["score", str(files / "real.csv"), str(files / "good.csv"), "--names", "a,b"])
    assert rc == 2 and "--names lists 2 name(s) for 1 synthetic file(s)" in capsys.readouterr().err


def test_score_a_mixed_table_by_its_schema(tmp_path, capsys):
    """id/year columns carried along, a categorical text column without tail metrics, a zero-inflated loss
    with the atom warning."""

    def claims(n, rng):
        loss = np.where(rng.random(n) < 0.6, 0.0, (rng.pareto(2.0, n) + 1.0) * 100.0)
        return pd.DataFrame({"claim_id": np.arange(1, n + 1), "year": rng.integers(1990, 2020, n),
                             "region": rng.choice(["north", "south", "east"], n), "loss": loss,
                             "size": rng.lognormal(0.0, 1.0, n)})  # fmt: skip

    rng = np.random.default_rng(4)
    claims(1000, rng).to_csv(tmp_path / "real.csv", index=False)
    claims(3000, rng).to_csv(tmp_path / "synth.csv", index=False)
    out = tmp_path / "rep"
    rc = main(["score", str(tmp_path / "real.csv"), str(tmp_path / "synth.csv"), "--splits", "2", "--quick",
               "--out", str(out)])  # fmt: skip
    text = capsys.readouterr()
    assert rc == 0, text.err
    assert "'loss' is atom-dominated" in text.out + text.err
    assert (out / "tails_loss.png").is_file() and (out / "tails_size.png").is_file()
    assert not (out / "tails_region.png").exists() and not (out / "tails_year.png").exists()
