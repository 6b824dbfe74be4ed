"""Numerical safety on hard heavy-tailed data, model-file safety, and property-based tests of the edges.

Hard data: Cauchy (xi = 1), Pareto with xi = 1.5 (infinite mean), values spanning 1 to 1e9, heavily tied
integer counts. Each generator either returns finite samples or fails with a clear, named error; the
diagnostics return finite numbers or raise ValueError. See docs/robustness.md for the table of cases.
"""

import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heavytail_diffusion.baselines import EVTCopulaBaseline
from heavytail_diffusion.data import MIN_ROWS, DataWarning, load_table
from heavytail_diffusion.diagnostics import (
    block_maxima,
    diagnose_table,
    fit_gev,
    fit_gpd,
    hill,
    max_sliced_wasserstein,
    quantile_errors,
)
from heavytail_diffusion.diagnostics.distances import (
    energy_distance,
    mmd,
    nearest_distances,
    sliced_wasserstein,
    wasserstein_1d,
)
from heavytail_diffusion.errors import DataError, ModelFileError, NumericalError
from heavytail_diffusion.models import load_model, make_model
from heavytail_diffusion.preprocessing import Preprocessor

N = 300
FAST = {
    "evt-t-copula": {},
    "truncated": {"train_steps": 30, "sigma_T": 0.5, "progress": False},
    "gaussian-start": {"train_steps": 30, "sigma_T": 0.5, "progress": False},
    "flow": {"flow_steps": 20, "progress": False},
}


def _hard_data(name: str) -> np.ndarray:
    rng = np.random.default_rng(11)
    if name == "cauchy":  # xi = 1, two-sided, no mean
        return rng.standard_cauchy((N, 2))
    if name == "pareto-xi1.5":  # P(X > x) = x^(-2/3): infinite mean
        return 1.0 + rng.pareto(1 / 1.5, size=(N, 2))
    if name == "span-1e9":  # log-uniform on [1, 1e9] and a lognormal with sigma = 3
        return np.column_stack([np.exp(rng.uniform(0, np.log(1e9), N)), np.exp(rng.normal(0, 3, N))])
    if name == "ties":  # 80% of a count column equal to 3, the rest Poisson(10); Poisson(2) counts
        return (
            np.column_stack([np.where(rng.random(N) < 0.8, 3, rng.poisson(10, N)), rng.poisson(2, N)]) * 1.0
        )
    raise KeyError(name)


# ---- generators on hard data --------------------------------------------------------------------------------

FINITE_CASES = [
    ("cauchy", "evt-t-copula", "robust"),
    ("cauchy", "evt-t-copula", "signed-log"),
    ("cauchy", "truncated", "robust"),
    ("cauchy", "flow", "robust"),
    ("pareto-xi1.5", "evt-t-copula", "robust"),
    ("pareto-xi1.5", "evt-t-copula", "log"),
    ("pareto-xi1.5", "truncated", "robust"),
    ("pareto-xi1.5", "truncated", "log"),
    ("pareto-xi1.5", "flow", "robust"),
    ("span-1e9", "evt-t-copula", "robust"),
    ("span-1e9", "evt-t-copula", "log"),
    ("span-1e9", "truncated", "log"),
    ("span-1e9", "flow", "log"),
    ("ties", "gaussian-start", "robust"),  # no GPD margins: fits tied data
]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("data", "model", "pre"), FINITE_CASES, ids=["-".join(c) for c in FINITE_CASES])
def test_generator_gives_finite_samples_on_hard_data(data, model, pre):
    X = _hard_data(data)
    m = make_model(model, preprocessing=pre, **FAST[model]).fit(X)
    Y = m.sample(1000, seed=1)
    assert Y.shape == (1000, 2)
    assert np.isfinite(Y).all()
    if pre == "log":
        assert (Y > 0).all()
    # The heavy tail is not squashed: each column's sample 0.99 quantile lies beyond the data's 0.95
    # quantile (a bootstrap clipped at the data's 0.8 quantile fails this), and, on two-sided data, the
    # sample 0.01 quantile below the data's 0.05. The Gaussian start on counts has a light-tailed start by
    # design (it is here for the ties), so its bound is the data's 0.8 quantile.
    level = 0.8 if model == "gaussian-start" else 0.95
    for j in range(X.shape[1]):
        assert np.mean(X[:, j] <= np.quantile(Y[:, j], 0.99)) >= level, f"column {j}: upper tail squashed"
        if (X[:, j] < 0).any():
            assert np.mean(X[:, j] < np.quantile(Y[:, j], 0.01)) <= 1 - level, f"column {j}: lower tail squashed"


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("model", ["evt-t-copula", "truncated", "flow"])
def test_tied_counts_are_modelled_as_integers(model):
    """Counts with 80% ties (the GPD margins once failed on them): the schema makes them ``integer``, the
    encoder dequantises them, and the samples are nonnegative integers with the big tie at its frequency."""
    frame = pd.DataFrame(_hard_data("ties"), columns=["claims", "visits"])
    m = make_model(model, **FAST[model]).fit(frame)
    assert m.schema_["claims"].kind == "integer" and m.schema_["claims"].lower == 0
    Y = m.sample(2000, seed=0)
    assert np.all(Y == np.round(Y)) and Y.min() >= 0
    share3 = np.mean(frame["claims"].to_numpy() == 3)
    assert abs(np.mean(Y[:, 0] == 3) - share3) < 0.08


@pytest.mark.filterwarnings("ignore")
def test_the_suggested_fix_for_ties_works():
    from heavytail_diffusion.preprocessing import jitter_ties

    X = _hard_data("ties")
    J = np.column_stack([jitter_ties(X[:, j], seed=j, width=1.0) for j in range(2)])
    Y = make_model("evt-t-copula").fit(J).sample(500, seed=0)
    assert np.isfinite(Y).all()


@pytest.mark.filterwarnings("ignore")
def test_huge_values_standard_preprocessing_does_not_overflow():
    X = _hard_data("cauchy") * 1e200  # the plain std would overflow (x^2 > 1.8e308)
    pre = Preprocessor("standard").fit(X)
    assert np.isfinite(pre.scale_).all() and (pre.scale_ > 0).all()
    np.testing.assert_allclose(pre.inverse_transform(pre.transform(X)), X, rtol=1e-12)
    Y = make_model("evt-t-copula", preprocessing="standard").fit(X).sample(500, seed=0)
    assert np.isfinite(Y).all()


@pytest.mark.filterwarnings("ignore")
def test_huge_values_without_preprocessing_fit_and_sample():
    X = _hard_data("cauchy") * 1e200  # GPD fits are scale-equivariant (evt.fit_gpd rescales internally)
    Y = make_model("evt-t-copula", preprocessing="none").fit(X).sample(200, seed=0)
    assert np.isfinite(Y).all()


def test_overflow_in_a_fit_is_a_numerical_error_with_a_fix(monkeypatch):
    from heavytail_diffusion.priors import EVTCopulaPrior

    def overflowing_fit(self, X, rng):
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(EVTCopulaPrior, "_fit", overflowing_fit)
    with pytest.raises(NumericalError, match=r"overflow.*'none'.*'robust' or 'log'"):
        make_model("evt-t-copula", preprocessing="none").fit(_hard_data("cauchy"))


# ---- overflow on the way back: redraw, then raise ---------------------------------------------------------


class _Overflowing(EVTCopulaBaseline):
    """evt-t-copula whose model-scale draws overflow exp() in the first ``bad_calls`` calls (rows 0 and 1)."""

    bad_calls = 1

    def _sample(self, n, rng):
        self.calls_ = getattr(self, "calls_", 0) + 1
        Z = super()._sample(n, rng)
        if self.calls_ <= self.bad_calls:
            Z[: min(n, 2), 0] = 1e6  # exp(1e6 * scale + loc) = inf on the raw scale
        return Z


@pytest.mark.filterwarnings("ignore")
def test_non_finite_draws_are_redrawn():
    m = _Overflowing(preprocessing="log").fit(_hard_data("span-1e9"))
    Y = m.sample(50, seed=0)
    assert np.isfinite(Y).all() and Y.shape == (50, 2)
    assert m.calls_ == 2  # one redraw, of the two bad rows only


@pytest.mark.filterwarnings("ignore")
def test_persistent_overflow_raises_instead_of_returning_inf():
    m = _Overflowing(preprocessing="log").fit(_hard_data("span-1e9"))
    m.bad_calls = 100
    with pytest.raises(NumericalError, match=r"2 of 50 samples stayed non-finite after 3 redraws.*'log'"):
        m.sample(50, seed=0)


@pytest.mark.filterwarnings("ignore")
def test_log_scale_tail_reaching_the_float_limit_stays_finite():
    rng = np.random.default_rng(3)
    logx = np.minimum(20 * np.abs(rng.standard_t(1.5, N)), 690.0)  # raw values up to ~1e299
    X = np.column_stack([np.exp(logx), rng.lognormal(size=N)])
    Y = make_model("evt-t-copula", preprocessing="log").fit(X).sample(3000, seed=0)
    assert np.isfinite(Y).all() and (Y > 0).all()


# ---- NaN training loss -------------------------------------------------------------------------------------


def test_nan_loss_from_a_huge_learning_rate_names_the_step_and_the_fix():
    X = _hard_data("cauchy")
    with pytest.raises(
        NumericalError, match=r"loss became nan at step \d+ of 30; lower the learning rate \(lr=1e\+30\)"
    ):
        make_model("truncated", lr=1e30, **FAST["truncated"]).fit(X)


def test_nan_loss_from_unscaled_data_names_the_scaling():
    X = _hard_data("cauchy") * 1e30
    with pytest.raises(NumericalError, match=r"at step 1 of 30.*max \|X\| = .*e\+3\d.*robust or signed-log"):
        make_model("truncated", preprocessing="none", **FAST["truncated"]).fit(X)


# ---- diagnostics on hard data -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("data", ["cauchy", "pareto-xi1.5", "span-1e9", "ties"])
def test_diagnostics_are_finite_on_hard_data(data):
    X = _hard_data(data)
    x = X[:, 0]
    est = hill(x, k=30, ci=None)
    assert np.isfinite(est.value)
    gpd = fit_gpd(x, float(np.quantile(x, 0.8)))
    assert np.isfinite([gpd.shape, gpd.scale]).all() and gpd.scale > 0
    gev = fit_gev(block_maxima(x, 10))
    assert np.isfinite([gev.shape, gev.loc, gev.scale]).all()
    err = quantile_errors(X, X[::-1].copy())
    assert np.isfinite(err["rel_error"]).all()
    assert np.isfinite(max_sliced_wasserstein(X, X[: N // 2], seed=0))
    summary = diagnose_table(X, seed=0)
    for col in summary.columns.values():
        assert np.isfinite([col["hill"]["xi"], col["gpd"]["shape"], col["quantiles"]["q0.99"]]).all()


def test_heavy_tail_estimates_are_right_on_xi_above_one():
    x = _hard_data("pareto-xi1.5")[:, 0]
    assert hill(x, k=60, ci=None).value == pytest.approx(1.5, abs=0.45)
    assert fit_gpd(x, float(np.quantile(x, 0.8))).shape == pytest.approx(1.5, abs=0.6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: hill(np.r_[np.ones(50), np.nan], ci=None), "non-finite"),
        (lambda: hill(np.arange(1.0, 30.0), k=40, ci=None), "k"),
        (lambda: fit_gpd(np.arange(1.0, 60.0), threshold=100.0), "threshold"),
        (lambda: fit_gev(np.full(30, 2.0)), "equal|constant"),
        (lambda: quantile_errors(np.ones((50, 2)), np.ones((50, 3))), "column"),
        (lambda: max_sliced_wasserstein(np.ones((50, 2)), np.full((50, 2), np.inf)), "non-finite"),
        (lambda: diagnose_table(np.ones((5, 1))), "rows"),
    ],
    ids=[
        "hill-nan",
        "hill-k-too-large",
        "gpd-threshold-above-max",
        "gev-constant",
        "qerr-dims",
        "msw-inf",
        "few-rows",
    ],
)
def test_diagnostics_reject_bad_input_with_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_fit_gpd_on_huge_values_is_scale_equivariant():
    x = _hard_data("cauchy")[:, 0]
    u = float(np.quantile(x, 0.9))
    small, huge = fit_gpd(x, u), fit_gpd(x * 1e200, u * 1e200)
    np.testing.assert_allclose(huge.shape, small.shape, rtol=1e-6)
    np.testing.assert_allclose(huge.scale, small.scale * 1e200, rtol=1e-6)
    np.testing.assert_allclose(huge.se_scale, small.se_scale * 1e200, rtol=1e-5)


def test_max_sliced_wasserstein_on_huge_values_is_finite():
    X = _hard_data("cauchy")
    big = max_sliced_wasserstein(X * 1e200, X[: N // 2] * 1e200, seed=0)
    assert np.isfinite(big)
    np.testing.assert_allclose(big, 1e200 * max_sliced_wasserstein(X, X[: N // 2], seed=0), rtol=1e-6)


# ---- model-file safety ---------------------------------------------------------------------------------------


class _CreatesFile:
    target = ""

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.mark.filterwarnings("ignore")
def test_loading_never_executes_code(tmp_path):
    import hashlib
    import json

    import torch

    marker = tmp_path / "created_by_pickle"
    _CreatesFile.target = str(marker)
    # the payload is live: plain unpickling creates the file
    pickle.loads(pickle.dumps(_CreatesFile())).close()
    assert marker.exists()
    marker.unlink()
    folder = tmp_path / "model"
    make_model("evt-t-copula").fit(_hard_data("cauchy")).save(folder)
    torch.save({"w": _CreatesFile()}, folder / "tensors.pt")  # with a valid checksum
    manifest = json.loads((folder / "model.json").read_text())
    manifest["tensors_sha256"] = hashlib.sha256((folder / "tensors.pt").read_bytes()).hexdigest()
    (folder / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="pickled Python objects.*execute code") as info:
        load_model(folder)
    assert "\n" not in str(info.value) and "weights_only` set to `False`" not in str(info.value)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore")
def test_saved_model_round_trip_is_exact(tmp_path):
    m = make_model("evt-t-copula").fit(_hard_data("pareto-xi1.5"))
    m.save(tmp_path / "m")
    np.testing.assert_array_equal(load_model(tmp_path / "m").sample(200, seed=5), m.sample(200, seed=5))


def test_sample_rejects_non_positive_n():
    m = make_model("evt-t-copula").fit(np.random.default_rng(0).standard_t(3, (100, 2)))
    for n in (0, -5, 2.5, "10"):
        with pytest.raises(ValueError, match="n must be an integer >= 1"):
            m.sample(n)


# ---- property-based tests -------------------------------------------------------------------------------------

_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**6), 10**6),
    st.none(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 45),
    d=st.integers(1, 3),
    kind=st.sampled_from(["float", "finite", "distinct", "int", "mixed", "text"]),
    data=st.data(),
)
def test_load_table_returns_finite_same_shape_or_data_error(n, d, kind, data):
    if kind == "float":
        col = st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
    elif kind == "finite":
        col = st.lists(st.floats(-1e300, 1e300), min_size=n, max_size=n)
    elif kind == "distinct":
        col = st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n, unique=True)
    elif kind == "int":
        col = st.lists(st.integers(-1000, 1000), min_size=n, max_size=n)
    elif kind == "mixed":
        col = st.lists(_cells, min_size=n, max_size=n)
    else:
        col = st.lists(st.sampled_from(["1.5", "x", "", "NA", "2e3", "-inf"]), min_size=n, max_size=n)
    frame = pd.DataFrame({f"c{j}": data.draw(col) for j in range(d)}, index=range(n))
    # Clean input must load: finite numbers, enough rows, no constant column (so the test cannot pass by
    # the loader raising on everything).
    clean = (kind in ("finite", "distinct", "int") and n >= MIN_ROWS
             and all(frame[c].nunique() > 1 for c in frame.columns))  # fmt: skip
    for table in _load_frame_and_csv(frame):
        if isinstance(table, DataError):
            assert not clean, f"clean {kind} table of {n} rows refused: {table}"
            continue
        assert table.values.shape == frame.shape
        assert table.values.dtype == np.float64 and np.isfinite(table.values).all()
        assert list(table.columns) == list(frame.columns)
        if kind in ("finite", "distinct", "int"):
            np.testing.assert_allclose(table.values, frame.to_numpy(float), rtol=1e-15)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(MIN_ROWS, 60),
    d=st.integers(1, 3),
    kind=st.sampled_from(["distinct", "int"]),
    data=st.data(),
)
def test_clean_tables_load_exactly(n, d, kind, data):
    """Every example here is a valid table, so the loader must accept it and keep its values."""
    if kind == "distinct":
        col = st.lists(st.floats(-1e300, 1e300), min_size=n, max_size=n, unique=True)
    else:
        col = st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True)
    frame = pd.DataFrame({f"c{j}": data.draw(col) for j in range(d)}, index=range(n))
    for table in _load_frame_and_csv(frame):
        assert not isinstance(table, DataError), f"clean {kind} table of {n} rows refused: {table}"
        np.testing.assert_array_equal(table.values, frame.to_numpy(float))
        assert list(table.columns) == list(frame.columns)


def _load_frame_and_csv(frame: pd.DataFrame):
    """load_table of the frame itself and of its CSV file: the Table, or the DataError it raised."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        frame.to_csv(path, index=False)
        for source in (frame, path):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    yield load_table(source, columns=list(frame.columns))
                except DataError as exc:
                    yield exc


_positive = st.lists(st.floats(1e-3, 1e6), min_size=40, max_size=120, unique=True)


@settings(max_examples=25, deadline=None)
@given(x=_positive, c=st.floats(1e-4, 1e4), k=st.integers(5, 30))
def test_hill_is_scale_invariant(x, c, k):
    x = np.asarray(x)
    assert hill(c * x, k=k, ci=None).value == pytest.approx(hill(x, k=k, ci=None).value, rel=1e-8, abs=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), xi=st.floats(0.1, 1.5), c=st.floats(1e-3, 1e3))
def test_gpd_shape_is_invariant_to_scaling_data_and_threshold(seed, xi, c):
    x = np.random.default_rng(seed).pareto(1 / xi, 400)
    u = float(np.quantile(x, 0.8))
    a, b = fit_gpd(x, u), fit_gpd(c * x, c * u)
    assert b.shape == pytest.approx(a.shape, abs=1e-4)
    assert b.scale == pytest.approx(c * a.scale, rel=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(2, 200),
    d=st.integers(1, 3),
    scale=st.floats(1e-6, 1e9),
)
def test_quantile_errors_are_zero_for_identical_samples(seed, n, d, scale):
    X = scale * np.random.default_rng(seed).standard_cauchy((n, d))
    err = quantile_errors(X, X.copy())
    assert (err["abs_error"] == 0).all()
    assert (err["rel_error"].fillna(0) == 0).all()


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    method=st.sampled_from(["robust", "standard", "log", "signed-log", "none"]),
    scale=st.floats(1e-6, 1e12),
    df=st.floats(0.5, 5),
)
def test_preprocessor_round_trip(seed, method, scale, df):
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_t(df, (60, 2))
    if method == "log":
        X = np.abs(X) + scale * 1e-3
    pre = Preprocessor(method).fit(X)
    Z = pre.transform(X)
    assert np.isfinite(Z).all()
    # affine parts lose about eps * (|loc| + scale) in absolute terms, and both are bounded by max |x|
    np.testing.assert_allclose(pre.inverse_transform(Z), X, rtol=1e-9, atol=1e-12 * float(np.abs(X).max()))


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(60, 150),
    d=st.integers(1, 3),
    df=st.floats(0.7, 6),
    m=st.integers(1, 300),
)
def test_evt_copula_samples_have_the_right_shape_and_are_finite(seed, n, d, df, m):
    X = np.random.default_rng(seed).standard_t(df, (n, d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_model("evt-t-copula", seed=seed).fit(X)
        Y = model.sample(m, seed=seed)
    assert Y.shape == (m, d) and np.isfinite(Y).all()


# ---- issue 13: distances equivariant over the whole float range ----------------------------------------

_DISTANCES = {
    "sliced_w2": (lambda a, b: sliced_wasserstein(a, b, n_projections=50), 1),
    "max_sliced_w2": (lambda a, b: max_sliced_wasserstein(a, b, n_candidates=64), 1),
    "w1": (lambda a, b: wasserstein_1d(a[:, 0], b[:, 0], p=1), 1),
    "energy": (lambda a, b: energy_distance(a, b, n_projections=20), 1),
    "mmd": (lambda a, b: mmd(a, b), 0),
    "nearest": (lambda a, b: float(nearest_distances(a, b).mean()), 1),
}


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e200, 1e300])
@pytest.mark.parametrize("name", list(_DISTANCES))
def test_distances_are_equivariant_from_1e_minus_300_to_1e300(name, scale):
    f, degree = _DISTANCES[name]
    rng = np.random.default_rng(13)
    x, y = rng.standard_t(3, (200, 2)), 1.3 * rng.standard_t(3, (150, 2))
    base = f(x, y)
    value = f(x * scale, y * scale)
    assert base > 0 and np.isfinite(value) and value > 0
    assert value / scale**degree == pytest.approx(base, rel=1e-9)


# ---- issue 13: the loader's silent-wrong-data cases ----------------------------------------------------


def _year_rows(n=30):
    return "".join(f"{1990 + i % 10},{i + 1.5},{(i + 1) ** 1.5:.3f}\n" for i in range(n))


def test_header_with_fewer_names_than_fields_names_the_line(tmp_path):
    f = tmp_path / "short.csv"
    f.write_text("loss,alae\n" + _year_rows())
    with pytest.raises(DataError, match=r"names 2 column\(s\) but the data rows have 3 fields") as info:
        load_table(f)
    assert "line 1" in str(info.value) and "1990" in str(info.value)


@pytest.mark.parametrize("start", [0, 1])
def test_a_written_row_index_is_dropped_with_a_note(tmp_path, start):
    f = tmp_path / "indexed.csv"
    frame = pd.DataFrame({"loss": np.arange(30.0) ** 1.5 + 1, "alae": np.arange(30) * 2.0 + 0.5})
    frame.index += start
    frame.to_csv(f)
    with pytest.warns(DataWarning, match=f"dropped the first column .*values {start}..{start + 29}"):
        table = load_table(f)
    assert table.columns == ("loss", "alae")
    np.testing.assert_array_equal(table.values, frame.to_numpy())


def test_an_unnamed_first_column_that_is_not_an_index_is_kept(tmp_path):
    f = tmp_path / "unnamed.csv"
    rng = np.random.default_rng(3)
    pd.DataFrame({"": rng.pareto(2, 30) + 1, "b": rng.pareto(3, 30) + 1}).to_csv(f, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        table = load_table(f)
    assert table.d == 2


def test_headerless_csv_is_an_error_suggesting_a_header(tmp_path):
    f = tmp_path / "noheader.csv"
    f.write_text(_year_rows())
    with pytest.raises(DataError, match="no header line") as info:
        load_table(f)
    assert "x0,x1,x2" in str(info.value)


def test_underflowing_literal_is_reported_with_its_column_and_line(tmp_path):
    f = tmp_path / "under.csv"
    f.write_text(
        "a,b\n" + "".join(f"{(i + 1) ** 1.3:.3f},{(i + 1) * 1.5}\n" for i in range(29)) + "3,1e-400\n"
    )
    with pytest.warns(DataWarning, match=r"'1e-400' in column 'b', line 31, read as 0\.0"):
        table = load_table(f)
    assert table.values[-1, 1] == 0.0


@pytest.mark.parametrize("suffix", [".gz", ".xz"])
def test_truncated_compressed_file_is_a_data_error(tmp_path, suffix):
    import gzip
    import lzma

    blob = (gzip if suffix == ".gz" else lzma).compress(
        ("a,b\n" + "".join(f"{i + 1},{(i + 1) * 1.5}\n" for i in range(3000))).encode()
    )
    f = tmp_path / f"t.csv{suffix}"
    f.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="compressed file is truncated"):
        load_table(f)


def test_symlink_loop_and_dangling_link_are_named(tmp_path):
    import os

    os.symlink("b.csv", tmp_path / "a.csv")
    os.symlink("a.csv", tmp_path / "b.csv")
    with pytest.raises(DataError, match="symbolic link loop"):
        load_table(tmp_path / "a.csv")
    os.symlink("gone.csv", tmp_path / "dangling.csv")
    with pytest.raises(DataError, match="symbolic link to gone.csv, which does not exist"):
        load_table(tmp_path / "dangling.csv")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_utf16_and_utf32_files_are_named(tmp_path, encoding):
    f = tmp_path / "wide.csv"
    f.write_text("a,b\n" + "".join(f"{i + 1},{(i + 1) * 1.5}\n" for i in range(30)), encoding=encoding)
    with pytest.raises(DataError, match=f"{encoding[:6].upper()}-encoded text; save it as UTF-8"):
        load_table(f)


# ---- issue 13: tampered model folders fail on load, naming what is out of its domain ----------------


def _tamper(path, *, tensors=None, config=None):
    import hashlib
    import json

    import torch

    mpath, tpath = path / "model.json", path / "tensors.pt"
    manifest = json.loads(mpath.read_text())
    if tensors is not None:
        state = torch.load(tpath, weights_only=True)
        tensors(state)
        torch.save(state, tpath)
        manifest["tensors_sha256"] = hashlib.sha256(tpath.read_bytes()).hexdigest()
    if config is not None:
        config(manifest["config"])
    mpath.write_text(json.dumps(manifest))


def _set(match, index, value):
    def edit(state):
        key = next(k for k in state if match in k)
        state[key] = state[key].clone()
        state[key][index] = value

    return edit


def _symmetric_corr(value):
    def edit(state):
        _set("corr", (0, 1), value)(state)
        _set("corr", (1, 0), value)(state)

    return edit


TAMPERED = [
    ("scale-zero", {"tensors": _set("preprocessor.scale", 0, 0.0)}, "finite scale > 0"),
    ("loc-shape", {"tensors": lambda s: s.update({"preprocessor.loc": s["preprocessor.loc"][:1]})}, "shapes"),
    ("cube", {"config": lambda c: c["preprocessor"].update(methods=["cube", "robust"])}, "unknown transform"),
    ("xi-50", {"tensors": _set(".upper", 1, 50.0)}, "upper GPD shape = 50.0"),
    ("gpd-scale", {"tensors": _set(".lower", 2, -1.0)}, "lower GPD scale = -1.0"),
    ("corr-not-pd", {"tensors": _symmetric_corr(1.5)}, "entries in \\[-1, 1\\]"),
    ("corr-asymmetric", {"tensors": _set("corr", (0, 1), 0.9)}, "symmetric"),
    ("knots-unsorted", {"tensors": _set("knots_x", 0, 1e9)}, "strictly increasing"),
]


@pytest.fixture(scope="module")
def saved_copula(tmp_path_factory):
    rng = np.random.default_rng(2)
    X = np.column_stack([np.exp(rng.standard_t(3, 400)), rng.standard_t(3, 400)])
    path = tmp_path_factory.mktemp("copula") / "model"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        EVTCopulaBaseline(copula="t").fit(X).save(path)
    return path


@pytest.mark.parametrize(("edit", "match"), [c[1:] for c in TAMPERED], ids=[c[0] for c in TAMPERED])
def test_tampered_model_folder_fails_on_load(saved_copula, tmp_path, edit, match):
    import shutil

    path = tmp_path / "m"
    shutil.copytree(saved_copula, path)
    _tamper(path, **edit)
    with pytest.raises(ModelFileError, match=match):
        load_model(path)
