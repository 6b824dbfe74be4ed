"""Tests of the tail scorecard: metrics that cannot reward light or heavy tails, floors, splits, ranks, ties."""

import numpy as np
import pytest

from heavytail_diffusion import scorecard as sc
from heavytail_diffusion.errors import DataError


def _t_law(n, df, rho, rng):
    z = rng.standard_normal((n, 2)) @ np.linalg.cholesky([[1.0, rho], [rho, 1.0]]).T
    return z / np.sqrt(rng.chisquare(df, n) / df)[:, None]


@pytest.fixture(scope="module")
def ranked():
    """5 independent references of a bivariate t(4); an exact copy of the law (two seeds), a light-tailed and
    a heavy-tailed fake generator."""
    rng = np.random.default_rng(0)
    frames = []
    for s in range(5):
        R = _t_law(1500, 4, 0.6, rng)
        samples = {
            "copy": _t_law(6000, 4, 0.6, rng),
            "copy-seed2": _t_law(6000, 4, 0.6, rng),
            "light": _t_law(6000, 1e6, 0.6, rng) * R.std(axis=0),  # Gaussian, same correlation and spread
            "heavy": _t_law(6000, 1.5, 0.6, rng),  # far heavier tails (xi 2/3 instead of 1/4)
        }
        frames.append(sc.score_split(R, samples, columns=["a", "b"], split=s, seed=s, quick=True))
    import pandas as pd

    P = sc.split_summary(pd.concat(frames, ignore_index=True))
    return P, sc.rank_splits(P, ["copy", "copy-seed2", "light", "heavy"])


def test_light_and_heavy_fakes_rank_below_the_exact_copy_on_every_tail_metric(ranked):
    _, S = ranked
    for fam in sc.FAMILIES:
        assert S.loc["copy", fam] < S.loc["light", fam], fam
        assert S.loc["copy", fam] < S.loc["heavy", fam], fam
    assert set(S.index[:2]) == {"copy", "copy-seed2"}


def test_two_seeds_of_the_same_law_are_tied_and_a_wrong_law_is_not(ranked):
    _, S = ranked
    assert "copy-seed2" in S.loc["copy", "tied_with"].split(", ")
    assert "light" not in S.loc["copy", "tied_with"].split(", ")
    assert "heavy" not in S.loc["copy", "tied_with"].split(", ")
    assert 0 < S.loc["copy", "share_best"] < 1 and S.loc["light", "share_best"] == 0


def test_floors_are_beside_every_ranked_metric(ranked):
    P, _ = ranked
    for fam in sc.FAMILIES:
        assert np.isfinite(P[fam + "_floor"]).all() and (P[fam + "_floor"] > 0).all(), fam


def test_survival_area_charges_a_tail_that_stops_early_and_one_that_goes_too_far():
    rng = np.random.default_rng(1)
    ref = rng.pareto(3.0, 2000) + 1
    same = rng.pareto(3.0, 20000) + 1
    capped = np.minimum(rng.pareto(3.0, 20000) + 1, np.quantile(ref, 0.95))  # light: stops early
    heavy = rng.pareto(1.5, 20000) + 1
    a_same, _s_same = sc.survival_area(ref, same)
    a_cap, s_cap = sc.survival_area(ref, capped)
    a_heavy, s_heavy = sc.survival_area(ref, heavy)
    assert a_same < a_cap and a_same < a_heavy
    assert s_cap < 0 < s_heavy
    assert sc.survival_area(ref, ref) == (0.0, 0.0)
    # invariant to the location and scale of the data
    np.testing.assert_allclose(sc.survival_area(3 * ref + 7, 3 * heavy + 7), (a_heavy, s_heavy), rtol=1e-10)


def test_survival_area_refuses_an_atom_at_the_tail_start():
    x = np.r_[np.zeros(950), np.arange(1.0, 51.0)]
    with pytest.raises(DataError, match="atom"):
        sc.survival_area(x, x)


def test_unestimable_quantile_is_gpd_extrapolated_with_a_ci():
    rng = np.random.default_rng(2)
    R = rng.standard_t(3, size=(300, 1))
    M = sc.score_split(R, {"m": rng.standard_t(3, size=(5000, 1))}, columns=["x"], quick=True, joint=False)
    q = M[M.metric == "quantile_rel_error"]
    kinds = dict(zip(q.level, q.ref_kind, strict=False))
    assert kinds[0.99] == "gpd" and kinds[0.999] == "gpd"  # 3 and 0.3 values beyond: not estimable
    assert (q.ci_low <= q.value).all() and (q.value <= q.ci_high).all()
    assert q.note.str.contains("GPD above").all()
    big = sc.score_split(rng.standard_t(3, size=(2000, 1)), {"m": R}, columns=["x"], quick=True, joint=False)
    assert set(big[(big.metric == "quantile_rel_error") & np.isclose(big.level, 0.99)].ref_kind) == {
        "empirical"
    }


def test_make_splits_random_and_time():
    sp = sc.make_splits(100, 5, 0.3, seed=0)
    assert len(sp) == 5
    for tr, te in sp:
        assert te.size == 30 and tr.size == 70 and not set(tr) & set(te)
    assert not np.array_equal(sp[0][1], sp[1][1])
    tm = sc.make_splits(100, 5, 0.3, method="time")
    for tr, te in tm:
        assert np.all(np.diff(te) == 1)  # one contiguous block
    assert tm[0][1][0] == 0 and tm[-1][1][-1] == 99  # from the start to the end of the period
    with pytest.raises(DataError, match="at least 20"):
        sc.make_splits(30, 5, 0.3)
    with pytest.raises(ValueError, match="random' or 'time"):
        sc.make_splits(100, method="blocks")


def test_small_data_warnings():
    rng = np.random.default_rng(3)
    R = np.column_stack([rng.standard_t(3, 150), np.where(rng.random(150) < 0.7, 0.0, rng.pareto(2, 150))])
    w = sc.small_data_warnings(R, ["a", "rain"], [0, 1])
    assert any("150 test rows" in s for s in w)
    assert any("about 15 test values above" in s for s in w)
    assert any("'rain' is atom-dominated" in s for s in w) and not any("'a' is atom" in s for s in w)
    assert sc.small_data_warnings(rng.standard_t(3, size=(1000, 1)), ["a"], [0]) == []


def test_schema_kinds_exclude_columns_from_tail_metrics():
    kinds = sc.column_kinds({"year": "time", "id": "id", "loss": "positive"}, ["year", "id", "loss", "x"])
    assert kinds == {"year": "time", "id": "id", "loss": "positive", "x": "real"}
    assert sc.tail_columns(["year", "id", "loss", "x"], kinds) == [2, 3]


def test_verdict_is_written_from_the_numbers(ranked):
    _, S = ranked
    text = sc.verdict(S, n_splits=5, failed={"bad": "ValueError: boom"})
    top = S.index[0]
    assert text.startswith(f"Over 5 splits, **{top}** ranks first")
    assert "tied with" in text and "bad" in text
    assert f"{S.loc[top, 'rank']:.2f}" in text
    assert "No model produced samples" in sc.verdict(S.iloc[:0], n_splits=5, failed={"a": "x"})


def test_tied_rule():
    assert sc.tied([1.0, 2.0, 1.5], [1.1, 1.9, 1.6])
    assert not sc.tied([1.0, 1.1, 1.2, 1.0, 1.1], [2.0, 2.1, 2.2, 2.0, 2.1])
    assert sc.tied([1.0], [1.0]) and not sc.tied([1.0], [2.0])


def _claims(n, rng, xi=0.5, p_zero=0.6):
    """A claims table: id and year (not modelled), a categorical text column, a zero-inflated Pareto loss
    (an atom at 0 in ``p_zero`` of the rows) and a positive lognormal size."""
    import pandas as pd

    loss = np.where(rng.random(n) < p_zero, 0.0, (rng.pareto(1 / xi, n) + 1.0) * 100.0)
    return pd.DataFrame({"policy_id": np.arange(1, n + 1), "year": rng.integers(1990, 2020, n),
                         "region": rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2]),
                         "loss": loss, "size": rng.lognormal(0.0, 1.0, n)})  # fmt: skip


def test_score_samples_uses_the_schema_categorical_and_atoms_end_to_end():
    import warnings

    from heavytail_diffusion.report import score_samples

    rng = np.random.default_rng(11)
    real = _claims(1200, rng)
    synth = {"copy": _claims(3000, rng), "light": _claims(3000, rng, xi=0.05)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = score_samples(real, synth, n_splits=3, quick=True)
    # the schema: id/time not scored (and allowed in the synthetic files), the text column categorical
    assert res.info["kinds"] == {"region": "categorical", "loss": "nonnegative", "size": "positive"}
    assert res.info["tail_columns"] == ["loss", "size"]
    tail_metrics = ("survival_area", "quantile_rel_error", "hill_xi", "hill_xi_abs_error", "chi", "chi_abs_error")
    targets = set(res.metrics[res.metrics.metric.isin(tail_metrics)].target)
    assert targets == {"loss", "size", "loss|size"}
    assert not any("region" in t or "year" in t or "policy_id" in t for t in res.metrics.target)
    # the atom-dominated column gets the warning, in the result and in the verdict; the continuous one not
    assert any("'loss' is atom-dominated" in w and "equal 0" in w for w in res.warnings)
    assert not any("'size'" in w for w in res.warnings)
    assert "'loss' is atom-dominated" in res.verdict
    # the light-tailed fake ranks below the exact copy
    assert list(res.summary.index) == ["copy", "light"]
    # categories are matched by label: one the real data lack is a clear error
    bad = synth["copy"].assign(region="west")
    with pytest.raises(DataError, match="categories \\['west'\\]"):
        score_samples(real, {"bad": bad}, n_splits=1, quick=True)


def test_atom_warning_follows_the_schema_atoms():
    import pandas as pd

    from heavytail_diffusion.data import load_table

    rng = np.random.default_rng(12)
    x = rng.pareto(2.0, 1000) + 1.0
    x[:20] = 0.0  # 2% exact zeros: nonnegative with an atom, but not atom-dominated
    t = load_table(pd.DataFrame({"x": x, "k": rng.poisson(3.0, 1000)}))
    assert t.schema["x"].kind == "nonnegative" and t.schema["k"].kind == "integer" and not t.schema["k"].atoms
    w = sc.small_data_warnings(t.values, list(t.columns), [0, 1], schema=t.schema)
    # the count's most frequent value (~22% of the rows) is its law, not an atom: no warning with the schema
    assert not any("atom-dominated" in s for s in w)
    assert any("'k' is atom-dominated" in s for s in sc.small_data_warnings(t.values, list(t.columns), [0, 1]))
    x[:300] = 0.0
    t = load_table(pd.DataFrame({"x": x}))
    w = sc.small_data_warnings(t.values, ["x"], [0], schema=t.schema)
    assert any("'x' is atom-dominated (30% of the test rows equal 0)" in s for s in w)


def test_counts_with_a_tied_top_get_no_hill_error_but_amounts_do():
    rng = np.random.default_rng(13)
    R = np.column_stack([rng.negative_binomial(2, 0.3, 4000), np.round(rng.pareto(2.0, 4000) * 1e4)])
    S = np.column_stack([rng.negative_binomial(2, 0.3, 8000), np.round(rng.pareto(2.0, 8000) * 1e4)])
    M = sc.score_split(R, {"s": S}, columns=["claimants", "loss"], quick=True, discrete=[0, 1])
    h = M[M.metric == "hill_xi_abs_error"]
    assert list(h.target) == ["loss"] and h.value.notna().all()
    note = M[(M.metric == "hill_xi") & (M.target == "claimants")].note.iloc[0]
    assert note.startswith("reference: integer column with a tied top 10%")


def test_scoring_needs_no_model_and_no_torch():
    """The scorecard works without the generators: importing the scoring modules, and scoring synthetic rows
    with score_samples, loads neither torch nor the models (checked in a fresh interpreter)."""
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    import heavytail_diffusion

    code = textwrap.dedent("""
        import sys
        import numpy as np
        from heavytail_diffusion import scorecard, scoring
        def loaded():
            return sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'pyro')
                          or m in ('heavytail_diffusion.models', 'heavytail_diffusion.baselines'))
        print('import', loaded())
        rng = np.random.default_rng(0)
        res = scoring.score_samples(rng.standard_t(3, size=(300, 1)), {'t3': rng.standard_t(3, size=(900, 1)),
                                    'normal': rng.normal(size=(900, 1))}, n_splits=2, quick=True)
        print('ranked', list(res.summary.index))
        print('score', loaded())
    """)
    root = str(Path(heavytail_diffusion.__file__).resolve().parents[1])
    path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True,
                         env=env, timeout=300, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["import []", "ranked ['t3', 'normal']", "score []"]
