"""Power-law model comparison against the ``powerlaw`` package (2.0.0; numbers from
analyses/bench_evt_workflow.py, which runs both) and the CSN goodness-of-fit bootstrap."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heavytail_diffusion.diagnostics.powerlaw_compare import _log_upper_gamma, compare_powerlaw, powerlaw_gof

CSN = Path(__file__).resolve().parents[2] / "data" / "csn2009"


def _csn(name):
    return pd.read_csv(CSN / f"{name}.csv").value.to_numpy(float)


# powerlaw.Fit(x, xmin=..., discrete=False).distribution_compare("power_law", alt[, normalized_ratio=True])
# where both optimisers reach the same optimum (lognormal, truncated power law, exponential)
POWERLAW_REF = {
    "cities": (
        52457.0,
        {
            "lognormal": (-0.01329, 0.92713),
            "truncated_power_law": (-0.12313, 0.61973),
            "exponential": (232.79597, 0.00032481),
        },
    ),
    "flares": (
        323.0,
        {
            "lognormal": (-0.74915, 0.42149),
            "truncated_power_law": (-4.51900, 0.0026443),
            "exponential": (1800.71661, 7.4741e-43),
        },
    ),
    "blackouts": (
        230000.0,
        {
            "lognormal": (-0.24089, 0.67762),
            "truncated_power_law": (-0.38182, 0.38219),
            "exponential": (12.75456, 0.15229),
        },
    ),
}


@pytest.mark.parametrize("name", sorted(POWERLAW_REF))
def test_loglikelihood_ratios_equal_powerlaw_package(name):
    xmin, ref = POWERLAW_REF[name]
    res = compare_powerlaw(_csn(name))
    assert res.xmin == xmin
    tab = res.table.set_index("alternative")
    for alt, (r, p) in ref.items():
        assert tab.loc[alt, "R"] == pytest.approx(r, abs=2e-4 + 1e-6 * abs(r))
        # the exponential's p differs in the 3rd digit: powerlaw fits lambda numerically, we use the exact MLE
        assert tab.loc[alt, "p"] == pytest.approx(p, rel=5e-5 if alt != "exponential" else 5e-3)
    assert tab.loc["truncated_power_law", "nested"]
    # the stretched exponential: our optimum is at least as good as the lognormal's R (powerlaw's optimiser
    # stops early on these sets and reports R = 2.1 / 4.4 for cities / flares)
    assert tab.loc["stretched_exponential", "R"] < 0.5


def test_exponential_data_reject_the_power_law():
    x = 1.0 + np.random.default_rng(3).exponential(1.0, 3000)
    res = compare_powerlaw(x, xmin=1.0)
    row = res.table.set_index("alternative").loc["exponential"]
    assert row.R < 0 and row.p < 1e-6 and row.verdict == "exponential favoured"


def test_upper_incomplete_gamma_for_negative_shape():
    from scipy.special import gamma, gammaincc

    # Gamma(s, z) for s > 0 against scipy; for s < 0 the recursion Gamma(s+1,z) = s Gamma(s,z) + z^s e^-z
    assert _log_upper_gamma(1.5, 0.3) == pytest.approx(np.log(gammaincc(1.5, 0.3) * gamma(1.5)), rel=1e-12)
    for s, z in [(-0.5, 0.01), (-1.3, 0.5), (-1.0, 0.2), (-2.4, 3.0), (-1.7, 40.0)]:
        lhs = np.exp(_log_upper_gamma(s + 1, z))
        rhs = s * np.exp(_log_upper_gamma(s, z)) + z**s * np.exp(-z)
        assert lhs == pytest.approx(rhs, rel=1e-9)
    # mpmath.log(mpmath.gammainc(-1.3, 0.5)) = -0.34690995501746535
    assert _log_upper_gamma(-1.3, 0.5) == pytest.approx(-0.34690995501746535, rel=1e-12)


def test_gof_accepts_pareto_and_rejects_lognormal():
    rng = np.random.default_rng(0)
    pareto = rng.pareto(1.5, 2000) + 1.0
    assert powerlaw_gof(pareto, 200, xmin=1.0, xmin_search=False, seed=1).p_value > 0.05
    assert powerlaw_gof(rng.lognormal(0, 1, 3000), 200, xmin=1.0, xmin_search=False, seed=1).p_value < 0.01
    g = powerlaw_gof(_csn("blackouts"), 40, seed=0)
    assert g.xmin_search and 0.2 < g.p_value <= 1.0 and g.seconds > 0  # CSN: p = 0.62
