"""SchemaEncoder: exact round trips, every decoded value inside its column's support."""

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.data import load_table
from heavytail_diffusion.encoding import SchemaEncoder

N = 500


def _table():
    rng = np.random.default_rng(1)
    loss = rng.pareto(1.2, N) + 0.05
    df = pd.DataFrame({
        "real": rng.standard_t(3, N),
        "zeros": np.where(rng.random(N) < 0.7, 0.0, loss),
        "capped": np.minimum(loss, 3.0),
        "floor": 1.0 + np.where(rng.random(N) < 0.1, 0.0, loss),  # declared bounded:lower=1 (atom at 1)
        "both": rng.beta(0.5, 2.0, N),
        "counts": rng.negative_binomial(1, 0.1, N),
        "region": rng.choice(["a", "b", "c", "d"], N),
        "flag": rng.random(N) < 0.2,
        "rain": np.round(np.where(rng.random(N) < 0.5, 0.0, rng.exponential(0.5, N) + 0.01), 2),
    })  # fmt: skip
    return load_table(df, schema={"floor": "bounded:lower=1", "both": "bounded:lower=0,upper=1"})


def _check_support(X, schema):
    for j, s in enumerate(schema):
        x = X[:, j]
        assert np.isfinite(x).all(), s.name
        lo, hi = s.support_bounds()
        assert x.min() >= lo and x.max() <= hi, s.name
        if s.kind == "positive":
            assert x.min() > 0, s.name
        if s.kind == "nonnegative":
            assert np.all((x == 0) | (x > 0)), s.name
        if s.kind == "integer":
            assert np.all(x == np.round(x)), s.name
        if s.kind == "categorical":
            levels = np.arange(len(s.categories)) if s.coded else np.asarray(s.categories, dtype=float)
            assert np.isin(x, levels).all(), s.name
        if s.step is not None:
            k = (x[~np.isin(x, s.atoms)] - s.origin) / s.step
            np.testing.assert_allclose(k, np.round(k), atol=1e-6, err_msg=s.name)


def test_round_trip_is_exact():
    t = _table()
    schema = t.schema.select(t.columns)
    enc = SchemaEncoder(schema).fit(t.values, seed=0)
    C = enc.encode(t.values, np.random.default_rng(0))
    assert C.shape == (N, enc.n_channels_) and np.isfinite(C).all()
    X = enc.decode(C)
    np.testing.assert_allclose(X, t.values, rtol=1e-9, atol=1e-12)


def test_any_channel_values_decode_inside_the_support():
    t = _table()
    schema = t.schema.select(t.columns)
    enc = SchemaEncoder(schema).fit(t.values, seed=0)
    rng = np.random.default_rng(2)
    C = enc.encode(t.values, rng)
    # far outside the training range: a badly behaved generator
    wild = C.mean(axis=0) + 50 * C.std(axis=0) * rng.standard_t(1, size=(4000, enc.n_channels_))
    with np.errstate(over="ignore"):
        X = enc.decode(wild)
    X = X[np.isfinite(X).all(axis=1)]  # overflow (inf) rows are redrawn by the models
    assert len(X) > 1000
    _check_support(X, schema)


def test_channel_layout_and_methods():
    t = _table()
    enc = SchemaEncoder(t.schema.select(t.columns)).fit(t.values, seed=0)
    names = dict(zip(enc.channel_names_, enc.channel_methods_, strict=True))
    assert "zeros==0" not in names and names["zeros"] == "robust"  # one channel: atom block below the values
    assert names["capped"] == "robust"  # (0, 3] with an atom at the cap: logit, atom block above
    codecs = {c.spec.name: c for c in enc.codecs_}
    assert codecs["zeros"].order == -1 and codecs["capped"].order == 1 and codecs["floor"].order == -1
    assert set(names.values()) == {"robust"}
    for col in ("zeros", "floor", "counts", "rain"):  # one-sided supports: log-linear map (log below the median)
        assert codecs[col].loglin > 0, col
    assert np.isnan(codecs["real"].loglin) and np.isnan(codecs["both"].loglin)
    assert [n for n in enc.channel_names_ if n.startswith("region")] == ["region=a", "region=b", "region=c", "region=d"]
    assert "flag" in names  # two levels: one channel


def test_atom_block_keeps_the_continuous_part_and_its_dependence():
    """One column: the decoded continuous part is the data's (no distortion from the atom block); two
    columns: the block positions are imputed, so the zero pattern keeps its dependence."""
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], 4000)
    a = np.where(z[:, 0] < 0.5, 0.0, np.exp(z[:, 0]))  # zero below the latent threshold
    b = np.exp(z[:, 1])
    t = load_table(pd.DataFrame({"a": a, "b": b}))
    enc = SchemaEncoder(t.schema.select(t.columns)).fit(t.values, seed=0)
    C = enc.encode(t.values, np.random.default_rng(1), impute=True)
    zero = t.values[:, 0] == 0
    # imputed block positions follow the other column: zeros with a large b sit next to the threshold
    pos = C[zero, 0]
    assert np.corrcoef(pos, np.log(b[zero]))[0, 1] > 0.4
    np.testing.assert_allclose(enc.decode(C), t.values, rtol=1e-12)


def test_state_round_trip_of_the_encoder():
    t = _table()
    enc = SchemaEncoder(t.schema.select(t.columns)).fit(t.values, seed=0)
    back = SchemaEncoder.from_state(*enc.get_state())
    C = enc.encode(t.values, np.random.default_rng(5))
    np.testing.assert_array_equal(back.decode(C), enc.decode(C))
    assert back.channel_names_ == enc.channel_names_


def test_explicit_preprocessing_on_a_positive_column_warns_and_clips():
    t = _table()
    with pytest.warns(UserWarning, match="'zeros' .* 'robust' preprocessing instead of its kind's default"):
        enc = SchemaEncoder(t.schema.select(t.columns), "robust").fit(t.values, seed=0)
    C = enc.encode(t.values, np.random.default_rng(0))
    C[:, enc.channel_names_.index("zeros")] = -5.0  # negative losses from the generator
    assert (enc.decode(C)[:, 1] >= 0).all()


def test_rare_atom_beside_a_cap_keeps_its_share_after_calibration(tmp_path):
    # one exact zero in 4,000 rows and a cap in 8.4%: two atoms, so state channels decoded by argmax; a
    # smooth generator put 2% of its draws in the zero state before the state biases were calibrated
    import pandas as pd

    from heavytail_diffusion.models import load_model, make_model

    rng = np.random.default_rng(3)
    x = rng.standard_t(4, size=4000)
    loss = np.minimum(np.exp(2 + 0.9 * x + 0.3 * rng.standard_normal(4000)), 35.0).round(2)
    df = pd.DataFrame({"loss": loss, "x": x})
    m = make_model("evt-t-copula", seed=0).fit(df)
    c = m.encoder_.codecs_[0]
    assert c.state_share == pytest.approx((0.91600, 0.00025, 0.08375), abs=1e-5) and len(c.state_bias) == 3
    g = m.sample_frame(20_000, seed=1)["loss"].to_numpy()
    assert np.mean(g == 0.0) < 0.002 and abs(np.mean(g == 35.0) - 0.08375) < 0.012
    assert g.min() >= 0.0 and g.max() <= 35.0
    m.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.encoder_.codecs_[0].state_bias == c.state_bias
    np.testing.assert_array_equal(back.sample(500, seed=2), m.sample(500, seed=2))


def test_rare_categories_keep_their_shares():
    import pandas as pd

    from heavytail_diffusion.models import make_model

    rng = np.random.default_rng(4)
    x = rng.standard_t(3, size=4000)
    u = rng.random(4000)
    region = np.where(u < 0.004, "C", np.where(u < 0.1, "B", "A"))  # 0.25% C (before: 2% of the draws)
    flag = np.where(rng.random(4000) < 0.002, "Z", np.where(rng.random(4000) < 0.5, "X", "Y"))
    df = pd.DataFrame({"region": region, "flag": flag, "x": x + (region == "B")})
    m = make_model("evt-t-copula", seed=0).fit(df)
    assert m.encoder_.codecs_[0].state_share == pytest.approx((0.9002, 0.0972, 0.0025), abs=1e-4)
    g = m.sample_frame(20_000, seed=1)
    for col in ("region", "flag"):
        want = df[col].value_counts(normalize=True)
        got = g[col].value_counts(normalize=True).reindex(want.index, fill_value=0.0)
        assert np.all(np.abs(got - want) < 0.012), (col, got.to_dict(), want.to_dict())
    assert np.mean(g.region == "C") < 0.006 and np.mean(g.flag == "Z") < 0.004
