"""heavytail-diffusion: synthetic heavy-tailed tabular data whose extremes are right, and the diagnostics to prove it.

Subpackages
-----------
data, benchmarks        inputs: validated tables, bundled real datasets, synthetic targets with ground truth
diagnostics             tail indices, GPD/GEV fits, extreme quantiles, distances, tail dependence
diffusion, priors       the truncated-diffusion method: denoiser, samplers, sigma_T choice, priors at sigma_T
models, report          one fit/sample interface for the method and its baselines; comparison reports
"""

from .errors import DataError, ModelFileError, NumericalError

__version__ = "0.1.0"

__all__ = ["DataError", "ModelFileError", "NumericalError", "__version__"]
