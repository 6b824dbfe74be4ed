"""Tail calibrations: far-out points go where the prior puts them, the body is the sampler's, determinism, save/load.

RankTailCoupling (the default): ranks kept exactly, tail order statistics the prior's clean draws'.
TailCalibration ("transport"): the prior's exact 1-D transport of each tail start."""

import numpy as np
import pytest

from heavytail_diffusion.diffusion.tail_calibration import RankTailCoupling, TailCalibration
from heavytail_diffusion.models import load_model, make_model
from heavytail_diffusion.priors.marginals import MarginalTransform

SIGMA = 0.5


@pytest.fixture(scope="module")
def target():
    rng = np.random.default_rng(0)
    return MarginalTransform().fit(rng.standard_t(3, size=(20_000, 2)))


def _starts(target, n, seed):
    rng = np.random.default_rng(seed)
    clean = np.column_stack([m.ppf(rng.random(n)) for m in target.marginals_])
    return clean + SIGMA * rng.standard_normal(clean.shape)


def test_far_tail_goes_where_the_prior_puts_it(target):
    x_T = _starts(target, 200_000, 1)
    x_0 = 0.7 * x_T  # a sampler that pulls everything in by 30%
    y = TailCalibration().fit(target, SIGMA).transform(x_0, x_T)
    q = np.array([0.001, 0.005, 0.995, 0.999])
    want = np.column_stack([m.ppf(q) for m in target.marginals_])
    got = np.quantile(y, q, axis=0)
    assert np.all(np.abs(got / want - 1) < 0.05)
    assert np.all(np.abs(np.quantile(x_0, q, axis=0) / want - 1) > 0.2)  # the sampler alone was wrong
    # a far-out start lands at the prior's exact transport of it, whatever the sampler did with it
    cal = TailCalibration().fit(target, SIGMA)
    far = np.array([[40.0, -40.0]])
    out = cal.transform(np.zeros_like(far), far)
    lf, ls = cal._noised_logs(far[:, 0], 0)
    np.testing.assert_allclose(out[0, 0], target.marginals_[0].quantile_from_logs(lf, ls)[0])
    assert 38.0 < out[0, 0] < 40.0 and -40.0 < out[0, 1] < -38.0


def test_body_is_the_samplers_and_inactive_columns_untouched(target):
    x_T = _starts(target, 20_000, 2)
    x_0 = x_T + 0.1
    cal = TailCalibration().fit(target, SIGMA, active=[True, False])
    y = cal.transform(x_0, x_T)
    lo, hi = cal.thresholds_[0]
    body = (x_T[:, 0] >= lo) & (x_T[:, 0] <= hi)
    np.testing.assert_array_equal(y[body, 0], x_0[body, 0])
    np.testing.assert_array_equal(y[:, 1], x_0[:, 1])
    assert 0.08 < np.mean(~body) < 0.12  # thresholds at the noised 0.05 / 0.95 levels
    with pytest.raises(ValueError, match="full < zeta"):
        TailCalibration(zeta=0.01, full=0.05).fit(target, SIGMA)


def test_model_hook_deterministic_and_save_load(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.standard_t(3, size=(1200, 2))
    kw = {"quick": True, "train_steps": 60, "progress": False, "seed": 3, "device": "cpu"}
    m = make_model("truncated", tail_calibration=True, **kw).fit(X)
    assert m.tail_calibration_ is not None
    a, b = m.sample(500, seed=7), make_model("truncated", tail_calibration=True, **kw).fit(X).sample(500, seed=7)
    np.testing.assert_array_equal(a, b)
    m.save(tmp_path / "m")
    np.testing.assert_array_equal(load_model(tmp_path / "m").sample(500, seed=7), a)
    assert isinstance(m.tail_calibration_, TailCalibration)  # True: the transport, as before the kinds
    off = make_model("truncated", tail_calibration="off", **kw).fit(X)
    assert off.tail_calibration_ is None
    assert not np.array_equal(off.sample(500, seed=7), a)  # the same fit otherwise: only the tails differ
    assert make_model("gaussian-start", tail_calibration=True, **kw).fit(X).tail_calibration_ is None  # no map
    with pytest.raises(ValueError, match="tail_calibration must be"):
        make_model("truncated", tail_calibration="ranks", **kw).fit(X)


# ---- RankTailCoupling -------------------------------------------------------------------------------------
def test_rank_coupling_keeps_ranks_and_body_and_takes_the_priors_tail_values():
    rng = np.random.default_rng(5)
    n = 20_000
    clean = rng.standard_t(2.5, size=(n, 3))
    out = 0.7 * clean + 0.3 * rng.standard_normal((n, 3))  # a sampler that pulls the tails in
    cp = RankTailCoupling().fit(3, active=[True, True, False])
    y = cp.transform(out, clean)
    for j in range(2):
        np.testing.assert_array_equal(np.argsort(y[:, j], kind="stable"), np.argsort(out[:, j], kind="stable"))
        a, b, v = np.sort(out[:, j]), np.sort(clean[:, j]), np.sort(y[:, j])
        k = int(0.01 * n)  # ranks beyond the 0.01 / 0.99 levels: exactly the prior's order statistics
        np.testing.assert_array_equal(v[: k - 1], b[: k - 1])
        np.testing.assert_array_equal(v[-(k - 1) :], b[-(k - 1) :])
        body = slice(int(0.05 * n) + 1, n - int(0.05 * n) - 1)
        np.testing.assert_array_equal(v[body], a[body])
        assert np.quantile(y[:, j], 0.999) == np.quantile(clean[:, j], 0.999)
        assert abs(np.quantile(out[:, j], 0.999) / np.quantile(clean[:, j], 0.999) - 1) > 0.2
    np.testing.assert_array_equal(y[:, 2], out[:, 2])  # inactive column untouched


def test_rank_coupling_edge_cases():
    rng = np.random.default_rng(6)
    clean = rng.standard_t(3, size=(1000, 2))
    out = clean + 0.1
    out[3, 0] = np.nan
    y = RankTailCoupling().fit(2).transform(out, clean)
    assert np.isnan(y[3, 0]) and np.isfinite(np.delete(y[:, 0], 3)).all()  # non-finite left, not ranked
    small = RankTailCoupling().fit(2).transform(out[:5], clean[:5])
    np.testing.assert_array_equal(small, out[:5])  # 5 rows: no rank lies beyond the 0.05 level
    with pytest.raises(ValueError, match="rows"):
        RankTailCoupling().fit(2).transform(out, clean[:10])
    with pytest.raises(ValueError, match="dimension|columns|shape"):
        RankTailCoupling().fit(3).transform(out, clean)
    with pytest.raises(ValueError, match="full < zeta"):
        RankTailCoupling(zeta=0.01, full=0.05).fit(2)
    with pytest.raises(RuntimeError, match="not fitted"):
        RankTailCoupling().transform(out, clean)


def test_default_model_couples_ranks_same_seed_tails_are_the_priors(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.standard_t(3, size=(1200, 2))
    kw = {"quick": True, "train_steps": 60, "progress": False, "seed": 3, "device": "cpu"}
    m = make_model("truncated", **kw).fit(X)
    assert isinstance(m.tail_calibration_, RankTailCoupling)
    n = 4000
    G = m.sample(n, seed=11)
    P = m.preprocessor_.inverse_transform(m.prior_.sample_clean(n, seed=11))
    k = int(0.01 * n) - 1
    for j in range(2):  # the same seed and size: the output's far order statistics are the prior's draws'
        np.testing.assert_allclose(np.sort(G[:, j])[-k:], np.sort(P[:, j])[-k:], rtol=1e-12)
        np.testing.assert_allclose(np.sort(G[:, j])[:k], np.sort(P[:, j])[:k], rtol=1e-12)
    raw = make_model("truncated", tail_calibration="off", **kw).fit(X).sample(n, seed=11)
    body = slice(int(0.05 * n) + 1, n - int(0.05 * n) - 1)
    np.testing.assert_allclose(np.sort(G, axis=0)[body], np.sort(raw, axis=0)[body], rtol=1e-12)
    np.testing.assert_array_equal(m.sample(n, seed=11), G)
    m.save(tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert isinstance(back.tail_calibration_, RankTailCoupling)
    np.testing.assert_array_equal(back.sample(n, seed=11), G)


def test_rank_coupling_one_tail_only():
    rng = np.random.default_rng(7)
    n = 10_000
    clean = rng.standard_t(3, size=(n, 2))
    out = 0.7 * clean
    cp = RankTailCoupling().fit(2, tails=["upper", "lower"])
    y = cp.transform(out, clean)
    k = int(0.01 * n) - 1
    lo = slice(0, n // 2)
    hi = slice(n // 2, n)
    np.testing.assert_array_equal(np.sort(y[:, 0])[lo], np.sort(out[:, 0])[lo])  # lower half: the sampler's
    np.testing.assert_array_equal(np.sort(y[:, 0])[-k:], np.sort(clean[:, 0])[-k:])
    np.testing.assert_array_equal(np.sort(y[:, 1])[hi], np.sort(out[:, 1])[hi])
    np.testing.assert_array_equal(np.sort(y[:, 1])[:k], np.sort(clean[:, 1])[:k])
    back = RankTailCoupling.from_state(cp.get_config(), cp.state_dict())
    np.testing.assert_array_equal(back.transform(out, clean), y)
    old_state = {"active": np.array([1, 0], np.int8)}  # saved before one-tail coupling: both tails
    old = RankTailCoupling.from_state(cp.get_config(), old_state)
    assert old.lower_.tolist() == [True, False] and old.upper_.tolist() == [True, False]
    # a column 97% in an atom block below its continuous part: the levels shrink to half the rest (0.015),
    # so no row moves into or out of the block, even where the prior's block share differs (96%)
    block = rng.random(n)
    clean_a = np.where(block < 0.96, -5.0 + 0.1 * rng.random(n), np.abs(clean[:, 0]))
    out_a = np.where(block < 0.97, -5.0 + 0.1 * rng.random(n), 0.7 * np.abs(clean[:, 0]))
    cp_a = RankTailCoupling().fit(1, tails=["upper"], atom_share=[0.97])
    np.testing.assert_allclose([cp_a.zeta_[0], cp_a.full_[0]], [0.015, 0.003])
    y_a = cp_a.transform(out_a[:, None], clean_a[:, None])[:, 0]
    np.testing.assert_array_equal(y_a < -4.0, out_a < -4.0)
    assert np.sort(y_a)[-1] == np.sort(clean_a)[-1]
    back_a = RankTailCoupling.from_state(cp_a.get_config(), cp_a.state_dict())
    np.testing.assert_array_equal(back_a.zeta_, cp_a.zeta_)
    with pytest.raises(ValueError, match="atom_share"):
        RankTailCoupling().fit(1, atom_share=[1.0])
    with pytest.raises(ValueError, match="tails entries"):
        RankTailCoupling().fit(2, tails=["upper", "top"])
    with pytest.raises(ValueError, match="tails has"):
        RankTailCoupling().fit(2, tails=["upper"])


@pytest.mark.filterwarnings("ignore:.*exceedances")
def test_zero_inflated_column_is_coupled_in_its_upper_tail_and_keeps_its_zeros():
    import pandas as pd

    rng = np.random.default_rng(8)
    n = 1500
    z = rng.standard_t(3, size=n)
    loss = np.where(rng.random(n) < 0.6, 0.0, (rng.random(n) ** -0.3 - 1.0) / 0.3)  # zeros and a GPD(0.3) tail
    df = pd.DataFrame({"loss": loss, "x": z + 0.3 * np.log1p(loss)})
    kw = {"quick": True, "train_steps": 60, "progress": False, "seed": 3, "device": "cpu"}
    m = make_model("truncated", **kw).fit(df)
    cp = m.tail_calibration_
    assert isinstance(cp, RankTailCoupling)
    j = m.encoder_.channel_names_.index("loss")
    assert m.encoder_.block_sides_[j] == "lower"
    assert cp.upper_[j] and not cp.lower_[j] and cp.lower_.sum() == cp.upper_.sum() - 1
    g = m.sample_frame(4000, seed=2)["loss"].to_numpy()
    assert g.min() >= 0.0 and 0.5 < np.mean(g == 0.0) < 0.7  # the zeros kept, no negatives
    raw = make_model("truncated", tail_calibration="off", **kw).fit(df).sample_frame(4000, seed=2)["loss"].to_numpy()
    assert np.mean(raw == 0.0) == np.mean(g == 0.0)  # the lower (atom) side is the sampler's
    assert not np.array_equal(np.sort(g)[-20:], np.sort(raw)[-20:])  # the upper tail is coupled
