"""TailCalibration: far-out points go where the prior puts them, the body is the sampler's, determinism, save/load."""

import numpy as np
import pytest

from heavytail_diffusion.diffusion.tail_calibration import TailCalibration
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
    off = make_model("truncated", tail_calibration=False, **kw).fit(X)
    assert off.tail_calibration_ is None
    assert not np.array_equal(off.sample(500, seed=7), a)  # the same fit otherwise: only the tails differ
    assert make_model("truncated", **kw).fit(X).tail_calibration_ is None  # opt-in (see models/truncated.py)
    assert make_model("gaussian-start", tail_calibration=True, **kw).fit(X).tail_calibration_ is None  # no map
