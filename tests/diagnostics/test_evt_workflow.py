"""Time-aware blocks, declustering, non-stationary and r-largest GEV against R evd (numbers from
analyses/r_reference/evt_workflow_reference.R, output in evt_workflow_reference_output.txt)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.diagnostics import evt
from heavytail_diffusion.diagnostics.declustering import decluster, extremal_index, fit_gpd_declustered
from heavytail_diffusion.diagnostics.nonstationary import (
    fit_gev_nonstationary,
    fit_gev_rlargest,
    fit_gpd_nonstationary,
    likelihood_ratio_test,
)
from heavytail_diffusion.diagnostics.time_blocks import (
    block_maxima_by_time,
    gev_period_in_blocks,
    observation_years,
    observations_per_year,
)
from heavytail_diffusion.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "analyses" / "r_reference"


@pytest.fixture(scope="module")
def fort():
    df = pd.read_csv(ROOT / "data" / "fort_collins_precip_1900_1999.csv")
    df["date"] = pd.to_datetime(df[["year", "month", "day"]])
    return df


# ------------------------------------------------------------------------------------------------ time blocks
def test_annual_maxima_from_dates_equal_r_reference(fort):
    ref = pd.read_csv(REF / "fort_collins_annual_max.csv")
    bm = block_maxima_by_time(fort.prec_in.to_numpy(), fort.date)
    assert bm.labels[0] == "1900" and len(bm.labels) == 100
    np.testing.assert_array_equal(bm.maxima, ref.prec_in.to_numpy())
    # integer years give the same blocks; a Series with a DatetimeIndex needs no time argument
    np.testing.assert_array_equal(block_maxima_by_time(fort.prec_in, fort.year.to_numpy()).maxima, bm.maxima)
    s = pd.Series(fort.prec_in.to_numpy(), index=pd.DatetimeIndex(fort.date))
    np.testing.assert_array_equal(block_maxima_by_time(s).maxima, bm.maxima)
    assert fort.prec_in.to_numpy()[bm.index].tolist() == bm.maxima.tolist()


def test_month_and_season_blocks_and_partial_block_warning():
    t = pd.date_range("2000-01-01", "2001-12-31", freq="D")
    x = np.arange(t.size, dtype=float)
    m = block_maxima_by_time(x, t, block="month")
    assert len(m.maxima) == 24 and m.labels[1] == "2000-02" and m.maxima[1] == 59.0  # 31 + 29 - 1 (leap)
    with pytest.warns(UserWarning, match=r"2002-DJF \(31\)"):  # December 2001 alone: 31 of ~91 days
        s = block_maxima_by_time(x, t, block="season")
    assert s.labels[:2] == ["2000-DJF", "2000-MAM"]
    assert s.labels[-1] == "2002-DJF" and s.counts[-1] == 31  # December 2001 is winter 2002
    with pytest.raises(DataError, match="whole years"):
        block_maxima_by_time(x[:3], [2000, 2000, 2001], block="month")
    with pytest.raises(DataError, match="no time given"):
        block_maxima_by_time(x)
    with pytest.raises(DataError, match="row 1 has no date"):
        block_maxima_by_time(x[:3], ["2000-01-01", None, "2000-01-03"])


def test_observation_years_and_rate(fort):
    assert observation_years(fort.date) == pytest.approx(36524 / 365.2425)
    assert observation_years(fort.year.to_numpy()) == 100.0
    assert observations_per_year(fort.date) == pytest.approx(365.2425)
    # 12 monthly blocks: the T-year level's block period is about 12 T
    assert float(gev_period_in_blocks(100.0, 12)) == pytest.approx(1 / (1 - 0.99 ** (1 / 12)))
    assert float(gev_period_in_blocks(100.0, 1)) == 100.0


def test_pot_return_period_in_years_uses_exceedances_per_year(fort):
    x = fort.prec_in.to_numpy()
    fit = evt.fit_gpd(x, 0.395)
    npp = observations_per_year(fort.date)
    rl = evt.return_level(fit, 100.0, obs_per_block=npp)
    # the 100-year level is exceeded with probability 1 / (100 * exceedances per year) by an exceedance
    per_year = fit.n_exceedances / observation_years(fort.date)
    y = evt.gpd_isf(1.0 / (100 * per_year), fit.shape, fit.scale)
    assert rl.value == pytest.approx(fit.threshold + float(y), rel=1e-10)


# ------------------------------------------------------------------------------------------------ declustering
def test_extremal_index_and_runs_equal_evd(fort):
    p = fort.prec_in.to_numpy()
    assert extremal_index(p, 0.395) == pytest.approx(0.62463448643, abs=1e-10)  # evd::exi(r = 0)
    for r, ncl, theta, total in [
        (1, 891, 0.839773798303, 738.96),
        (2, 862, 0.812441093308, 720.82),
        (5, 764, 0.720075400566, 658.08),
    ]:
        c = decluster(p, 0.395, r)
        assert c.n_clusters == ncl and c.extremal_index_runs == pytest.approx(theta, abs=1e-11)
        assert c.peaks.sum() == pytest.approx(total, abs=1e-9)  # evd::clusters(cmax = TRUE)
    sp = pd.read_csv(ROOT / "data" / "sp500_daily_1999_2018.csv")
    loss = -sp.log_return.dropna().to_numpy()
    u = float(np.quantile(loss, 0.95))
    assert extremal_index(loss, u) == pytest.approx(0.168109461967, abs=1e-10)
    assert decluster(loss, u, 3).n_clusters == 165


def test_declustered_gpd_equals_fpot_on_cluster_peaks(fort):
    d = fit_gpd_declustered(fort.prec_in.to_numpy(), 0.395, 1)
    # evd::fpot(clusters(x, 0.395, r = 1, cmax = TRUE), 0.395): scale 0.349379126447, shape 0.198830622751
    assert d.gpd.scale == pytest.approx(0.349379126447, rel=2e-5)
    assert d.gpd.shape == pytest.approx(0.198830622751, abs=1e-5)
    assert d.gpd.nllh <= 131.186105592 + 1e-8
    assert d.gpd.rate == pytest.approx(891 / 36524)
    # clustering lowers the rate, hence the return level, compared with treating exceedances as i.i.d.
    rl = d.return_level(100.0, obs_per_block=365.2425)
    iid = evt.return_level(evt.fit_gpd(fort.prec_in.to_numpy(), 0.395), 100.0, obs_per_block=365.2425)
    assert rl.ci_low < rl.value < rl.ci_high and rl.value != iid.value


def test_iid_data_have_extremal_index_near_one():
    x = np.random.default_rng(3).pareto(2.0, 20000)
    u = float(np.quantile(x, 0.95))
    theta = extremal_index(x, u)
    assert 0.9 < theta <= 1.0
    # a moving maximum of order 3 has extremal index 1/3
    y = np.lib.stride_tricks.sliding_window_view(np.random.default_rng(4).pareto(2.0, 60002), 3).max(axis=1)
    assert extremal_index(y, float(np.quantile(y, 0.99))) == pytest.approx(1 / 3, abs=0.06)
    auto = decluster(y, float(np.quantile(y, 0.99)))
    assert auto.run_length_rule == "intervals"
    assert auto.extremal_index_runs == pytest.approx(1 / 3, abs=0.08)


# ------------------------------------------------------------------------------------------------ non-stationary
@pytest.fixture(scope="module")
def trend():
    return pd.read_csv(REF / "sim_gev_trend.csv")


def test_nonstationary_gev_location_trend_equals_evd_fgev_nsloc(trend):
    f = fit_gev_nonstationary(trend.x, trend.t)
    # evd::fgev(x, nsloc = data.frame(t)): loc, loct, scale, shape; se; nllh
    np.testing.assert_allclose(
        [f.coef["mu0"], f.coef["mu_t"], np.exp(f.coef["logsigma0"]), f.coef["xi"]],
        [19.9233599992, 0.0585264759551, 3.08654373614, 0.207792997805],
        rtol=2e-6,
        atol=2e-7,
    )
    np.testing.assert_allclose(
        f.se[["mu0", "mu_t", "xi"]], [0.401673129747, 0.0123400758928, 0.105808744592], rtol=1e-3
    )
    assert f.nllh == pytest.approx(226.0265234, abs=1e-6)
    lr = likelihood_ratio_test(evt.fit_gev(trend.x), f)
    assert lr.df == 1 and lr.statistic == pytest.approx(17.9423414104, abs=1e-5)
    assert lr.p_value == pytest.approx(2.27698767728e-05, rel=1e-4)


def test_nonstationary_gev_log_scale_trend_equals_direct_r_optimum(trend):
    f = fit_gev_nonstationary(trend.x, trend.t, trend.t)
    np.testing.assert_allclose(
        f.coef.to_numpy(),
        [20.0018464156, 0.0744590370827, 1.12912738725, 0.0069609117337, 0.184275123578],
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        f.se.to_numpy(),
        [0.416287773366, 0.0169476763506, 0.103452626286, 0.00498217104644, 0.105159144986],
        rtol=3e-3,
    )
    assert f.nllh == pytest.approx(225.086407219, abs=1e-6)
    # effective return levels: at t = 0 the GEV quantile of the fitted parameters at t = 0
    from scipy.stats import genextreme

    rl = f.return_level(100.0, loc_covariates=[0.0, 30.0], scale_covariates=[0.0, 30.0])
    c = f.coef
    q0 = genextreme.isf(0.01, -c["xi"], loc=c["mu0"], scale=np.exp(c["logsigma0"]))
    assert rl.value[0] == pytest.approx(q0, rel=1e-10)
    assert rl.value[1] > rl.value[0] and np.all(rl.ci_low < rl.value) and np.all(rl.value < rl.ci_high)


def test_stationary_engine_equals_fit_gev_and_constant_covariate_is_refused(trend):
    f = fit_gev_nonstationary(trend.x)
    g = evt.fit_gev(trend.x)
    assert f.nllh == pytest.approx(g.nllh, abs=1e-8)
    assert f.coef["xi"] == pytest.approx(g.shape, abs=1e-6)
    with pytest.raises(DataError, match="constant"):
        fit_gev_nonstationary(trend.x, np.ones(len(trend)))
    with pytest.raises(DataError, match="rows"):
        fit_gev_nonstationary(trend.x, np.arange(5.0))


def test_nonstationary_gpd_recovers_a_scale_trend():
    rng = np.random.default_rng(7)
    n = 4000
    t = np.linspace(-1, 1, n)
    from scipy.stats import genpareto

    y = genpareto.rvs(0.2, scale=np.exp(0.5 * t), size=n, random_state=rng)
    f = fit_gpd_nonstationary(y, 0.0, t)
    assert abs(f.coef["logsigma_scale1"] - 0.5) < 3 * f.se["logsigma_scale1"]
    assert abs(f.coef["xi"] - 0.2) < 3 * f.se["xi"]
    lr = likelihood_ratio_test(evt.fit_gpd(y, 0.0), f)
    assert lr.p_value < 1e-6
    # parameters need the covariate values (the fit does not keep its rows): a clear error, not a matmul one
    with pytest.raises(ValueError, match="has scale covariates"):
        f.parameters()
    with pytest.raises(ValueError, match="has scale covariates"):
        f.return_level(10)
    assert f.parameters(scale_covariates=[0.0, 1.0]).shape[0] == 2


# ------------------------------------------------------------------------------------------------ r-largest
@pytest.mark.parametrize(
    "r, ref",
    [
        (
            1,
            (
                111.097923404,
                17.1759945286,
                -0.0767227463979,
                222.714529665,
                2.62805761122,
                1.80354830291,
                0.0735297064146,
            ),
        ),
        (
            5,
            (
                118.569034736,
                13.6603791611,
                -0.0879205019468,
                731.966728059,
                1.56649490485,
                0.775742952177,
                0.0329588095887,
            ),
        ),
        (
            10,
            (
                120.544884169,
                12.7835537954,
                -0.112951002289,
                1139.09015729,
                1.36212971047,
                0.549304672137,
                0.0198647449477,
            ),
        ),
    ],
)
def test_rlargest_venice_equals_r(r, ref):
    A = pd.read_csv(REF / "venice.csv", index_col=0).to_numpy()
    assert np.isnan(A).sum() == 4  # missing entries are allowed
    f = fit_gev_rlargest(A, r)
    np.testing.assert_allclose([f.loc, f.scale, f.shape], ref[:3], rtol=1e-6, atol=1e-6)
    assert f.nllh == pytest.approx(ref[3], abs=1e-6)
    np.testing.assert_allclose([f.se_loc, f.se_scale, f.se_shape], ref[4:], rtol=2e-3)
    if r == 1:
        assert f.nllh == pytest.approx(evt.fit_gev(A[:, 0]).nllh, abs=1e-8)


def test_rlargest_rejects_empty_rows():
    A = np.full((12, 3), np.nan)
    A[1:, 0] = np.arange(11.0)
    with pytest.raises(DataError, match="row 0 has no value"):
        fit_gev_rlargest(A)
