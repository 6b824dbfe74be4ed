"""The one generator interface: every registered model fits, samples finite rows, saves and loads."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError, ModelFileError
from heavytail_diffusion.models import list_models, load_model, make_model
from heavytail_diffusion.models.atoms import AtomInflated, make_atom_inflated, split_atom

FAST = {"train_steps": 30, "progress": False, "sigma_T": 0.5}
PARAMS = {
    "truncated": FAST,
    "gaussian-start": FAST,
    "empirical-start": FAST,
    "edm": {"train_steps": 30, "progress": False, "steps": 4},
    "t-edm": {"train_steps": 30, "progress": False, "steps": 4, "nu": 4.0},
    "flow": {"flow_steps": 20, "progress": False},
    "evt-t-copula": {},
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    z = rng.standard_t(3, size=(300, 2))
    return pd.DataFrame({"a": z[:, 0], "b": 0.5 * z[:, 0] + z[:, 1]})


def test_registry_lists_the_method_and_every_baseline():
    names = set(list_models()["name"])
    assert {
        "truncated",
        "edm",
        "gaussian-start",
        "empirical-start",
        "oracle-start",
        "flow",
        "t-edm",
        "evt-t-copula",
    } <= names


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_fit_sample_save_load(name, data, tmp_path):
    model = make_model(name, **PARAMS[name]).fit(data)
    Y = model.sample(400, seed=3)
    assert Y.shape == (400, 2) and np.isfinite(Y).all()
    np.testing.assert_array_equal(Y, model.sample(400, seed=3))  # same seed, same rows
    assert not np.array_equal(Y, model.sample(400, seed=4))
    steps = getattr(model, "steps", None)  # Heun: 2 steps - 1 network evaluations; closed-form models: 0
    assert model.nfe == (0 if steps is None else 2 * steps - 1) and model.fit_seconds_ > 0
    model.save(tmp_path / name)
    loaded = load_model(tmp_path / name)
    np.testing.assert_array_equal(loaded.sample(400, seed=3), Y)
    assert list(loaded.sample_frame(5, seed=0).columns) == ["a", "b"]


def test_truncated_nfe_and_sampler_options(data):
    model = make_model("truncated", **FAST).fit(data)
    assert model.sigma_T_ == 0.5 and model.nfe == 2 * model.steps - 1
    Y = model.sample(50, seed=0, steps=3, sampler="ddpm")
    assert np.isfinite(Y).all()
    with pytest.raises(ValueError, match="unknown sampler"):
        model.sample(5, sampler="rk4")
    with pytest.raises(ValueError, match="does not take sampling option"):
        make_model("evt-t-copula").fit(data).sample(5, steps=3)


def test_auto_sigma_T_is_the_dip_test_level_or_the_floor(data):
    """Unimodal Student-t rows: sigma_T is the larger of the dip-test level and the floor min_sigma_T = 0.5.
    Two modes at -5 and +5 (sd 0.3; at +-1.0 after standard scaling): the two modes of x + sigma eps merge
    near sigma = 1, and the dip test puts sigma_T there (0.87-1.3 over selection seeds), well above the floor
    (a sigma_T stuck at the floor, or a floor applied to a larger level, fails here)."""
    model = make_model("truncated", train_steps=20, progress=False).fit(data)
    assert model.sigma_T_selection_ is not None
    assert model.sigma_T_ == max(model.sigma_T_selection_.sigma_T, 0.5)
    rng = np.random.default_rng(0)
    n = 400
    modes = np.where(rng.random(n) < 0.5, -5.0, 5.0) + 0.3 * rng.standard_normal(n)
    X = np.column_stack([modes, rng.standard_normal(n)])
    bimodal = make_model("truncated", preprocessing="standard", train_steps=20, progress=False).fit(X)
    assert bimodal.sigma_T_ == bimodal.sigma_T_selection_.sigma_T  # the dip-test level itself
    assert 0.7 < bimodal.sigma_T_ < 2.0 and bimodal.sigma_T_ > bimodal.min_sigma_T


def test_oracle_start_uses_the_true_sampler(data):
    calls = []

    def oracle(n, seed):
        calls.append(n)
        return np.random.default_rng(seed).standard_t(3, size=(n, 2))

    model = make_model("oracle-start", oracle=oracle, **FAST).fit(data)
    calls.clear()
    Y = model.sample(100, seed=0)
    assert calls == [100] and Y.shape == (100, 2)  # the start is drawn from the oracle, once per draw
    with pytest.raises(ValueError, match="cannot be saved"):
        model.save("unused")
    with pytest.raises(ValueError, match="oracle"):
        make_model("oracle-start", **FAST).fit(data)


def test_bad_names_params_and_inputs(data, tmp_path):
    with pytest.raises(ValueError, match="unknown model 'diffusion'.*truncated"):
        make_model("diffusion")
    with pytest.raises(ValueError, match="no parameter"):
        make_model("truncated", width_typo=3)
    bad = data.to_numpy().copy()
    bad[5, 1] = np.nan
    with pytest.raises(DataError, match=r"column 'x1' has a missing value.*array index 5"):
        make_model("evt-t-copula").fit(bad)
    with pytest.raises(DataError, match="constant"):
        make_model("evt-t-copula").fit(np.column_stack([data["a"], np.ones(len(data))]))
    with pytest.raises(DataError, match="rows"):
        make_model("evt-t-copula").fit(data.iloc[:10])
    with pytest.raises(RuntimeError, match="not fitted"):
        make_model("evt-t-copula").sample(5)
    with pytest.raises(ValueError, match="sigma_T"):
        make_model("truncated", sigma_T=-1.0, progress=False).fit(data)
    with pytest.raises(ValueError, match="nu > 2"):
        make_model("t-edm", nu=1.5, progress=False).fit(data)


def test_corrupt_model_folder(data, tmp_path):
    model = make_model("evt-t-copula").fit(data)
    model.save(tmp_path / "m")
    (tmp_path / "m" / "tensors.pt").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(tmp_path / "m")


def test_log_preprocessing_keeps_samples_positive():
    X = np.exp(np.random.default_rng(1).standard_normal((200, 2)) * 2)
    model = make_model("evt-t-copula", preprocessing="log").fit(X)
    assert (model.sample(1000, seed=0) > 0).all()


def _spread_rows(n=150, d=20, seed=0):
    return np.random.default_rng(seed).standard_t(4, (n, d))


def test_copy_check_warns_when_the_model_copies_at_a_given_sigma_T():
    # at sigma_T = 0.02 the EVT-copula start is a training row plus tiny noise: the samples are copies
    m = make_model("truncated", sigma_T=0.02, train_steps=20, progress=False, seed=0)
    with pytest.warns(UserWarning, match="closer to a training row"):
        m.fit(_spread_rows())
    assert m.copy_fraction_ > 0.5 and m.sigma_T_ == 0.02


def test_copy_check_doubles_an_automatic_sigma_T(monkeypatch):
    from heavytail_diffusion.models import TruncatedDiffusion

    monkeypatch.setattr(TruncatedDiffusion, "_choose_sigma_T", lambda self, Z, rng: 0.02)  # a tiny auto level
    m = make_model("truncated", train_steps=20, progress=False, seed=0)
    with pytest.warns(UserWarning, match="closer to a training row"):
        m.fit(_spread_rows())
    assert m.sigma_T_ == pytest.approx(0.08)  # doubled twice (the cap), and still copying: said so
    monkeypatch.undo()
    fixed = make_model("truncated", sigma_T=2.0, train_steps=20, progress=False, seed=0).fit(_spread_rows())
    assert fixed.sigma_T_ == 2.0 and fixed.copy_fraction_ < 0.05
    # the start baselines keep their level and are not checked
    e = make_model("empirical-start", sigma_T=0.02, train_steps=20, progress=False, seed=0).fit(
        _spread_rows()
    )
    assert e.sigma_T_ == 0.02 and e.copy_fraction_ is None


def test_copy_check_refits_when_draws_sit_too_close_to_the_training_rows(monkeypatch):
    # few near-copies but every draw nearer to the rows than the rows are to each other (HT-50D at 0.5):
    # one doubling, then the check passes
    from heavytail_diffusion.models import TruncatedDiffusion

    checks = iter([(0.01, 0.6), (0.01, 1.02)])
    monkeypatch.setattr(TruncatedDiffusion, "_copy_check", lambda self, Z: next(checks))
    monkeypatch.setattr(TruncatedDiffusion, "_choose_sigma_T", lambda self, Z, rng: 0.5)
    m = make_model("truncated", train_steps=20, progress=False, seed=0).fit(_spread_rows())
    assert m.sigma_T_ == 1.0 and m.refits_ == 1 and m.distance_ratio_ == 1.02
    monkeypatch.undo()
    # the real check on a model that does not copy: both numbers near their no-copy values
    m = make_model("truncated", sigma_T=2.0, train_steps=20, progress=False, seed=0).fit(_spread_rows())
    assert m.copy_fraction_ < 0.05 and 0.9 < m.distance_ratio_ < 1.5 and m.refits_ == 0


# ---- the column schema: every generator keeps its samples in the support ------------------------------
@pytest.fixture(scope="module")
def mixed():
    from heavytail_diffusion.benchmarks import get_benchmark

    frame = get_benchmark("zi-claims").sample_frame(600, seed=0)
    frame["year"] = np.repeat(np.arange(1990, 2000), 60)  # a time column: carried, never modelled
    frame["policy_id"] = np.arange(600) + 1000
    return frame


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_samples_stay_in_the_support_of_a_zero_inflated_table(name, mixed, tmp_path):
    model = make_model(name, **PARAMS[name]).fit(mixed)
    assert model.columns_ == ("building", "contents", "profits", "liability", "claimants", "region")
    kinds = {s.name: s.kind for s in model.schema_}
    assert (
        kinds["profits"] == "nonnegative"
        and kinds["claimants"] == "integer"
        and kinds["region"] == "categorical"
    )
    assert model.schema_["liability"].upper == 5.0  # the cap (6.5% of the rows) is inferred
    Y = model.sample_frame(3000, seed=1)
    losses = Y[["building", "contents", "profits"]].to_numpy()
    assert np.isfinite(losses).all() and losses.min() >= 0
    for col in ("building", "contents", "profits"):  # zero or positive, nothing else
        assert np.all((Y[col] == 0) | (Y[col] > 0))
    assert Y["liability"].max() <= 5.0 and Y["liability"].min() > 0  # the cap is never crossed
    counts = Y["claimants"].to_numpy(dtype=float)  # int64, or float if an untrained model overflows int64
    assert np.all(counts == np.round(counts)) and counts.min() >= 0
    assert set(Y["region"]) <= {"east", "north", "south"}
    model.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert [s.to_dict() for s in back.schema_] == [s.to_dict() for s in model.schema_]
    pd.testing.assert_frame_equal(back.sample_frame(50, seed=2), model.sample_frame(50, seed=2))


@pytest.mark.filterwarnings("ignore")
def test_atom_frequencies_and_their_dependence_are_kept(mixed):
    """evt-t-copula (no training noise) on the zero-inflated table: the atom shares and the share of zero
    profits among the largest building losses are the data's (true 0.22; the imputed atom positions keep
    it, a random position inside the atom block gave 0.40)."""
    from heavytail_diffusion.benchmarks import get_benchmark

    frame = get_benchmark("zi-claims").sample_frame(3000, seed=0)
    Y = make_model("evt-t-copula").fit(frame).sample_frame(20000, seed=1)
    for col in ("building", "contents", "profits"):
        assert abs(np.mean(Y[col] == 0) - np.mean(frame[col] == 0)) < 0.02, col
    top = Y["building"] > Y["building"].quantile(0.95)
    assert abs(np.mean(Y["profits"][top] == 0) - 0.22) < 0.05


def test_declared_schema_is_honoured(mixed):
    model = make_model("evt-t-copula", schema={"building": "bounded:lower=0,upper=500"}).fit(mixed)
    assert model.schema_["building"].kind == "bounded" and model.schema_["building"].upper == 500
    assert model.sample(4000, seed=0)[:, 0].max() <= 500
    with pytest.raises(DataError, match="no column named 'nope'"):
        make_model("evt-t-copula", schema={"nope": "real"}).fit(mixed)


def test_table_without_atoms_keeps_the_random_stream(data):
    """A real-valued table: the encoder is the identity and the model's draws are those of a plain fit."""
    m = make_model("evt-t-copula").fit(data)
    assert m.encoder_.channel_names_ == ("a", "b") and m.preprocessor_.methods_ == ("robust", "robust")


@pytest.mark.parametrize(
    "params, match",
    [({"train_steps": 0}, "train_steps must be an integer >= 1"), ({"width": 0}, "width must be an integer >= 1"),
     ({"mults": []}, "mults must be a non-empty list"), ({"steps": 0}, "steps must be an integer >= 1")],
)  # fmt: skip
def test_zero_settings_are_errors_not_defaults(data, params, match):
    model = make_model("truncated", **{**FAST, **params})
    with pytest.raises(ValueError, match=match):
        model.fit(data)
        model.sample(10, seed=0)


def test_sample_rejects_a_boolean_row_count(data):
    model = make_model("evt-t-copula").fit(data)
    with pytest.raises(ValueError, match="n must be an integer"):
        model.sample(True)


# ---- atoms: split_atom and the deprecated AtomInflated (moved from realdata) ------------------------------
def test_split_atom_1d_and_2d():
    p0, rest = split_atom([0.0, 0.0, 0.3, 0.0, 1.2])
    assert p0 == pytest.approx(0.6)
    assert rest.tolist() == [0.3, 1.2]
    X = np.array([[0.0, 0.0], [0.0, 1.0], [2.0, 3.0], [0.0, 0.0]])
    p0, rest = split_atom(X)
    assert p0 == pytest.approx(0.5)
    assert rest.shape == (2, 2) and rest[0].tolist() == [0.0, 1.0]
    p0, rest = split_atom([1e-9, 1.0, 2.0], tol=1e-6)
    assert p0 == pytest.approx(1 / 3) and rest.tolist() == [1.0, 2.0]


def test_split_atom_errors():
    with pytest.raises(DataError, match="x"):
        split_atom([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="tol"):
        split_atom([0.0, 1.0], tol=-1)
    with pytest.raises(DataError, match="dimensions"):
        split_atom(np.zeros((2, 2, 2)))


@pytest.mark.filterwarnings("ignore:AtomInflated / make_atom_inflated are deprecated:DeprecationWarning")
def test_atom_inflated_closed_form_base():
    rng = np.random.default_rng(0)
    n = 3000
    wet = rng.pareto(3.0, n) + 0.01
    x = np.where(rng.random(n) < 0.7, 0.0, wet)
    m = make_atom_inflated("evt-t-copula", 0.0, preprocessing="log", seed=1).fit(x)
    assert isinstance(m, AtomInflated)
    assert m.p_atom_ == pytest.approx(np.mean(x == 0))
    assert m.n_atom_ + m.n_rest_ == n
    y = m.sample(20000, seed=2)
    assert y.shape == (20000, 1)
    assert np.mean(y == 0) == pytest.approx(m.p_atom_, abs=0.015)
    assert np.all(y[y != 0] > 0)  # log preprocessing of the wet part keeps amounts positive
    # the wet-day law matches the training wet days in the body
    assert np.median(y[y != 0]) == pytest.approx(np.median(x[x != 0]), rel=0.15)
    # reproducible and seed-dependent
    assert np.array_equal(m.sample(100, seed=5), m.sample(100, seed=5))
    assert not np.array_equal(m.sample(100, seed=5), m.sample(100, seed=6))
    assert m.nfe == 0 and "AtomInflated" in repr(m)
    with pytest.raises(ValueError, match="cannot be saved"):
        m.save("/tmp/never")


@pytest.mark.filterwarnings("ignore:AtomInflated / make_atom_inflated are deprecated:DeprecationWarning")
def test_atom_inflated_dequantize_rounded_data():
    # rain-like: 70% zeros, amounts recorded to 0.01 with many ties at 0.01 (a GPD lower tail of one value)
    rng = np.random.default_rng(1)
    n = 4000
    amounts = np.maximum(np.round(rng.pareto(4.0, n) * 0.3, 2), 0.01)
    x = np.where(rng.random(n) < 0.7, 0.0, amounts)
    m = make_atom_inflated("evt-t-copula", 0.0, dequantize=True, preprocessing="log", seed=0).fit(x)
    y = m.sample(5000, seed=1)[:, 0]
    wet = y[y != 0]
    assert np.all(wet > 0.0)
    assert np.unique(wet).size == wet.size  # continuous amounts
    assert np.quantile(wet, 0.9) == pytest.approx(np.quantile(x[x != 0], 0.9), rel=0.2)
    # jitter that would cross the atom is refused
    with pytest.raises(DataError, match="reach the atom"):
        make_atom_inflated("evt-t-copula", 0.0, dequantize=True).fit(
            np.r_[np.zeros(10), np.arange(0.2, 40.0)]
        )


@pytest.mark.filterwarnings("ignore:AtomInflated / make_atom_inflated are deprecated:DeprecationWarning")
def test_atom_inflated_errors():
    with pytest.raises(ValueError, match="unknown model"):
        make_atom_inflated("no-such-model")
    with pytest.raises(ValueError, match="no parameter"):
        make_atom_inflated("evt-t-copula", bogus=1)
    with pytest.raises(DataError, match="differ from the atom"):
        make_atom_inflated("evt-t-copula").fit(np.r_[np.zeros(100), np.arange(1.0, 6.0)])
    with pytest.raises(RuntimeError, match="not fitted"):
        make_atom_inflated("evt-t-copula").sample(5)


def test_make_atom_inflated_warns_that_the_schema_replaces_it():
    with pytest.warns(DeprecationWarning, match=r"schema=\{'col': 'positive:atoms=1e6'\}"):
        m = make_atom_inflated("evt-t-copula")
    assert isinstance(m, AtomInflated)
    with pytest.warns(DeprecationWarning, match="AtomInflated / make_atom_inflated are deprecated"):
        AtomInflated("evt-t-copula")


# ---- one name, one meaning: the model evt-t-copula was named evt-copula ----------------------------------
def test_the_old_model_name_evt_copula_still_works_with_a_warning(data, tmp_path):
    import json

    from heavytail_diffusion.models import EVTCopulaBaseline, check_model_names

    with pytest.warns(DeprecationWarning, match="'evt-copula' is deprecated; use 'evt-t-copula'"):
        old = make_model("evt-copula", seed=2)
    assert type(old) is EVTCopulaBaseline and old.name == "evt-t-copula"
    assert list(list_models()["name"]).count("evt-t-copula") == 1 and "evt-copula" not in set(
        list_models()["name"]
    )
    with pytest.warns(DeprecationWarning, match="use 'evt-t-copula'"):
        assert check_model_names("truncated,evt-copula") == ["truncated", "evt-t-copula"]
    with pytest.raises(ValueError, match="twice"), pytest.warns(DeprecationWarning):
        check_model_names(["evt-copula", "evt-t-copula"])
    # the model fits the prior evt-t-copula (a Student-t copula), not the prior named evt-copula (empirical)
    old.fit(data)
    assert old.prior_.copula == "t" and old.prior_name == "evt-t-copula"
    # a folder saved under the old name (as earlier versions wrote it) loads, with the warning
    old.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "model.json").read_text())
    assert manifest["model"] == "evt-t-copula"
    manifest["model"] = "evt-copula"
    manifest["config"]["model"]["name"] = "evt-copula"  # earlier versions stored this prior name too
    (tmp_path / "m" / "model.json").write_text(json.dumps(manifest))
    with pytest.warns(DeprecationWarning, match="use 'evt-t-copula'"):
        back = load_model(tmp_path / "m")
    np.testing.assert_array_equal(back.sample(200, seed=1), old.sample(200, seed=1))


def test_truncated_with_spectral_prior_saves_and_loads_identically(tmp_path):
    X = np.random.default_rng(3).standard_t(2.5, size=(600, 3))
    m = make_model("truncated", prior="evt-spectral-copula", train_steps=30, seed=0).fit(X)
    assert m.prior_.copula == "spectral" and m.prior_.tail_rows_.sum() == 20
    m.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    np.testing.assert_array_equal(m.sample(500, seed=4), again.sample(500, seed=4))
    np.testing.assert_array_equal(m.sample(500, seed=4), m.sample(500, seed=4))
