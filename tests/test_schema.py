"""Column schema: inference of each kind, declarations, JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError
from heavytail_diffusion.schema import ColumnSpec, Schema, infer_schema, parse_schema_items

RNG = np.random.default_rng(3)
N = 400


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    loss = rng.pareto(1.5, N) + 0.1
    return pd.DataFrame({
        "two_sided": rng.standard_t(3, N),
        "positive": loss,
        "zeros": np.where(rng.random(N) < 0.3, 0.0, loss),
        "capped": np.minimum(loss, 2.0),
        "counts": rng.negative_binomial(2, 0.2, N),
        "flag": rng.random(N) < 0.4,
        "region": rng.choice(["north", "south", "east"], N),
        "code": rng.integers(1, 4, N),
        "policy_id": rng.permutation(N) + 10_000,
        "year": rng.integers(1980, 1991, N),
        "date": pd.date_range("2000-01-01", periods=N).strftime("%Y-%m-%d"),
        "rain": np.round(np.where(rng.random(N) < 0.6, 0.0, rng.exponential(0.3, N)), 2),
    })  # fmt: skip


def test_each_kind_is_inferred():
    s = infer_schema(_frame())
    kinds = s.kinds
    assert kinds == {
        "two_sided": "real", "positive": "positive", "zeros": "nonnegative", "capped": "positive",
        "counts": "integer", "flag": "categorical", "region": "categorical", "code": "categorical",
        "policy_id": "id", "year": "time", "date": "time", "rain": "nonnegative",
    }  # fmt: skip
    assert s["zeros"].atoms == (0.0,) and s["positive"].atoms == ()
    assert s["capped"].atoms == (2.0,) and s["capped"].upper == 2.0  # a cap: the maximum is an atom
    assert s["counts"].lower == 0.0 and s["counts"].atoms == ()  # no spike: frequencies by dequantisation
    assert s["region"].categories == ("east", "north", "south")
    assert s["code"].categories == (1.0, 2.0, 3.0)
    assert s["rain"].step == pytest.approx(0.01) and s["rain"].atoms == (0.0,)
    assert s["positive"].lower is None  # no point mass at its minimum: no lower bound
    assert [sp.name for sp in s.modelled] == [c for c in _frame().columns if c not in ("policy_id", "year", "date")]


def test_zero_inflated_counts_get_a_spike_atom():
    counts = np.where(RNG.random(N) < 0.4, 0, RNG.poisson(6, N) + 1)
    s = infer_schema(pd.DataFrame({"n": counts, "x": RNG.standard_normal(N)}))
    assert s["n"].kind == "integer" and s["n"].atoms == (0.0,)


def test_arrays_never_get_id_or_time_from_names():
    X = np.column_stack([np.arange(N), RNG.standard_normal(N)])  # row numbers, but in an unnamed array
    s = infer_schema(X)
    assert s.kinds == {"x0": "integer", "x1": "real"}


def test_declarations_override_and_are_checked():
    df = _frame()
    s = infer_schema(df, {"positive": "bounded:lower=0.1", "year": "integer", "zeros": {"kind": "real"}})
    assert s["positive"].kind == "bounded" and s["positive"].lower == 0.1
    assert s["year"].kind == "integer" and s["zeros"].kind == "real"
    assert s["positive"].declared == ("kind", "lower")
    with pytest.raises(DataError, match=r"column 'two_sided': value .* outside the support of kind 'positive'"):
        infer_schema(df, {"two_sided": "positive"})
    with pytest.raises(DataError, match="unknown kind 'cont'"):
        infer_schema(df, {"two_sided": "cont"})
    with pytest.raises(DataError, match=r"schema names column\(s\) \['nope'\]"):
        infer_schema(df, {"nope": "real"})
    with pytest.raises(DataError, match="declared integer but holds non-integer"):
        infer_schema(df, {"two_sided": "integer"})


def test_parse_cli_items_and_file(tmp_path):
    d = parse_schema_items(["loss=bounded:lower=1.2e6", "cap=positive:atoms=0.5/1e6", "n=integer:lower=1"])
    assert d["loss"] == {"kind": "bounded", "lower": 1.2e6}
    assert d["cap"]["atoms"] == (0.5, 1e6) and d["n"]["lower"] == 1.0
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"loss": "positive", "year": {"kind": "time"}}))
    d = parse_schema_items(["loss=real"], file=f)
    assert d == {"loss": {"kind": "real"}, "year": {"kind": "time"}}
    with pytest.raises(DataError, match="expects COL=KIND"):
        parse_schema_items(["loss"])
    with pytest.raises(DataError, match="unknown setting 'min'"):
        parse_schema_items(["loss=bounded:min=3"])
    with pytest.raises(DataError, match="lower must be a number"):
        parse_schema_items(["loss=bounded:lower=abc"])


def test_json_round_trip():
    s = infer_schema(_frame())
    back = Schema.from_dict(json.loads(s.to_json()))
    assert back == s and str(back) == str(s)


def test_spec_validation():
    with pytest.raises(DataError, match="'bounded' needs lower"):
        ColumnSpec("x", "bounded")
    with pytest.raises(DataError, match="lower 3 must be below upper 1"):
        ColumnSpec("x", "bounded", lower=3.0, upper=1.0)
    with pytest.raises(DataError, match="positive column cannot have an atom at 0"):
        ColumnSpec("x", "positive", atoms=(0.0,))


def test_a_point_mass_at_the_minimum_is_a_floor():
    # a deductible: 7% of the losses recorded at exactly 500, none below -> bounded [500, inf) with an atom at
    # 500 (the mirror of a cap); at 3% only a hint; a minimum seen once, or a declared kind, changes nothing
    x = 500 + 800 * RNG.pareto(1.8, N)
    floored = np.where(RNG.random(N) < 0.07, 500.0, x)
    s = infer_schema(pd.DataFrame({"loss": floored, "other": x}))
    assert s["loss"].kind == "bounded" and s["loss"].lower == 500.0 and s["loss"].upper is None
    assert s["loss"].atoms == (500.0,) and "floored" in s["loss"].note
    assert s["other"].kind == "positive" and s["other"].lower is None and s["other"].atoms == ()
    capped = np.minimum(floored, np.quantile(floored, 0.93))
    c = infer_schema(pd.DataFrame({"loss": capped}))["loss"]
    assert c.kind == "bounded" and c.lower == 500.0 and c.upper == capped.max() and len(c.atoms) == 2
    hint = infer_schema(pd.DataFrame({"loss": np.where(RNG.random(N) < 0.03, 500.0, x)}))["loss"]
    assert hint.kind == "positive" and hint.atoms == () and "declare bounded:lower=500" in hint.note
    signed = infer_schema(pd.DataFrame({"pnl": np.where(RNG.random(N) < 0.08, -1e4, RNG.standard_t(3, N))}))
    assert signed["pnl"].kind == "bounded" and signed["pnl"].lower == -1e4
    declared = infer_schema(pd.DataFrame({"loss": floored}), {"loss": {"kind": "positive"}})["loss"]
    assert declared.kind == "positive" and declared.lower is None
