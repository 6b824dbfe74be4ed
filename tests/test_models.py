"""The one generator interface: every registered model fits, samples finite rows, saves and loads."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.errors import DataError, ModelFileError
from heavytail_diffusion.models import list_models, load_model, make_model

FAST = {"train_steps": 30, "progress": False, "sigma_T": 0.5}
PARAMS = {
    "truncated": FAST,
    "gaussian-start": FAST,
    "empirical-start": FAST,
    "edm": {"train_steps": 30, "progress": False, "steps": 4},
    "t-edm": {"train_steps": 30, "progress": False, "steps": 4, "nu": 4.0},
    "flow": {"flow_steps": 20, "progress": False},
    "evt-copula": {},
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
        "evt-copula",
    } <= names


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_fit_sample_save_load(name, data, tmp_path):
    model = make_model(name, **PARAMS[name]).fit(data)
    Y = model.sample(400, seed=3)
    assert Y.shape == (400, 2) and np.isfinite(Y).all()
    np.testing.assert_array_equal(Y, model.sample(400, seed=3))  # same seed, same rows
    assert not np.array_equal(Y, model.sample(400, seed=4))
    assert model.nfe >= 0 and model.fit_seconds_ > 0
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
        make_model("evt-copula").fit(data).sample(5, steps=3)


def test_auto_sigma_T_is_positive(data):
    model = make_model("truncated", train_steps=20, progress=False).fit(data)
    assert model.sigma_T_ > 0 and model.sigma_T_selection_ is not None


def test_oracle_start_uses_the_true_sampler(data):
    def oracle(n, seed):
        return np.random.default_rng(seed).standard_t(3, size=(n, 2))

    model = make_model("oracle-start", oracle=oracle, **FAST).fit(data)
    assert np.isfinite(model.sample(100, seed=0)).all()
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
        make_model("evt-copula").fit(bad)
    with pytest.raises(DataError, match="constant"):
        make_model("evt-copula").fit(np.column_stack([data["a"], np.ones(len(data))]))
    with pytest.raises(DataError, match="rows"):
        make_model("evt-copula").fit(data.iloc[:10])
    with pytest.raises(RuntimeError, match="not fitted"):
        make_model("evt-copula").sample(5)
    with pytest.raises(ValueError, match="sigma_T"):
        make_model("truncated", sigma_T=-1.0, progress=False).fit(data)
    with pytest.raises(ValueError, match="nu > 2"):
        make_model("t-edm", nu=1.5, progress=False).fit(data)


def test_corrupt_model_folder(data, tmp_path):
    model = make_model("evt-copula").fit(data)
    model.save(tmp_path / "m")
    (tmp_path / "m" / "tensors.pt").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(tmp_path / "m")


def test_log_preprocessing_keeps_samples_positive():
    X = np.exp(np.random.default_rng(1).standard_normal((200, 2)) * 2)
    model = make_model("evt-copula", preprocessing="log").fit(X)
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
    assert kinds["profits"] == "nonnegative" and kinds["claimants"] == "integer" and kinds["region"] == "categorical"
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
    """evt-copula (no training noise) on the zero-inflated table: the atom shares and the share of zero
    profits among the largest building losses are the data's (true 0.22; the imputed atom positions keep
    it, a random position inside the atom block gave 0.40)."""
    from heavytail_diffusion.benchmarks import get_benchmark

    frame = get_benchmark("zi-claims").sample_frame(3000, seed=0)
    Y = make_model("evt-copula").fit(frame).sample_frame(20000, seed=1)
    for col in ("building", "contents", "profits"):
        assert abs(np.mean(Y[col] == 0) - np.mean(frame[col] == 0)) < 0.02, col
    top = Y["building"] > Y["building"].quantile(0.95)
    assert abs(np.mean(Y["profits"][top] == 0) - 0.22) < 0.05


def test_declared_schema_is_honoured(mixed):
    model = make_model("evt-copula", schema={"building": "bounded:lower=0,upper=500"}).fit(mixed)
    assert model.schema_["building"].kind == "bounded" and model.schema_["building"].upper == 500
    assert model.sample(4000, seed=0)[:, 0].max() <= 500
    with pytest.raises(DataError, match="no column named 'nope'"):
        make_model("evt-copula", schema={"nope": "real"}).fit(mixed)


def test_table_without_atoms_keeps_the_random_stream(data):
    """A real-valued table: the encoder is the identity and the model's draws are those of a plain fit."""
    m = make_model("evt-copula").fit(data)
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
    model = make_model("evt-copula").fit(data)
    with pytest.raises(ValueError, match="n must be an integer"):
        model.sample(True)
