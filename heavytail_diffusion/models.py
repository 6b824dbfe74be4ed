"""One interface for every generator: ``fit(X) -> self``, ``sample(n, seed)``, ``nfe``, ``save``, ``load_model``.

The method of the package, :class:`TruncatedDiffusion` (registered as ``"truncated"``), and every baseline
(see :mod:`heavytail_diffusion.baselines`) derive from :class:`GenerativeModel`, which owns what they share:
input validation at the edge, the invertible preprocessing (raw data in, raw-scale samples out), timing,
the finiteness check of samples, and saving to a safe model folder (:mod:`heavytail_diffusion.persistence`).
Users swap generators by name with :func:`make_model`.
"""

from __future__ import annotations

import inspect
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .data import Table, as_table, frame_from_values
from .diffusion.edm import SIGMA_MIN
from .diffusion.training import DEFAULT_TRAINING
from .encoding import SchemaEncoder
from .errors import DataError, ModelFileError, NumericalError
from .persistence import flatten_state, load_folder, save_folder, unflatten_state
from .preprocessing import Preprocessor
from .schema import schema_declarations_jsonable
from .validation import as_generator, check_array, check_positive_int, column_label

__all__ = ["MODELS", "GenerativeModel", "list_models", "load_model", "make_model", "register_model"]

MODELS: dict[str, type[GenerativeModel]] = {}

#: Rows per chunk of :meth:`GenerativeModel.sample` (bounded working memory for any n).
DEFAULT_CHUNK_ROWS = 100_000

#: Fewest training rows any generator accepts.
MIN_TRAIN_ROWS = 20

#: Priors whose margins have GPD tails (they get exponential tails on log-transformed columns).
EVT_MARGIN_PRIORS = ("evt-copula", "evt-gaussian-copula", "evt-t-copula", "flow-evt")


def register_model(name: str):
    """Class decorator adding a generator to the registry under ``name``."""

    def deco(cls):
        if name in MODELS:
            raise ValueError(f"a model named {name!r} is already registered")
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def make_model(name: str, **params) -> GenerativeModel:
    """Build the registered generator ``name`` with hyperparameters ``params``.

    Raises
    ------
    ValueError
        For an unknown name (listing the known ones) or an unknown hyperparameter.
    """
    _ensure_registered()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    cls = MODELS[name]
    allowed = cls.param_names()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"model {name!r} has no parameter(s) {unknown}; its parameters are {sorted(allowed)}"
        )
    return cls(**params)


def list_models() -> pd.DataFrame:
    """Table of registered generators: name, one-line description, whether it can be saved."""
    _ensure_registered()
    rows = []
    for name, cls in sorted(MODELS.items()):
        doc = (inspect.getdoc(cls) or "").splitlines()
        rows.append({"name": name, "description": doc[0] if doc else "", "saveable": cls.saveable})
    return pd.DataFrame(rows)


def _ensure_registered() -> None:
    from . import baselines  # noqa: F401  (registers the baselines)


class GenerativeModel:
    """Base class of every generator (see the module docstring).

    Subclasses implement ``_fit(Z, rng)`` and ``_sample(n, rng, **options) -> Z`` on the preprocessed scale,
    ``_get_state() -> (config, arrays)`` / ``_set_state(config, arrays)`` for saving, and ``nfe``.
    """

    name: ClassVar[str] = "base"
    saveable: ClassVar[bool] = True
    max_sample_retries: ClassVar[int] = 3
    #: Keyword options that ``sample`` accepts (e.g. ``("steps", "sampler")`` for diffusion models).
    sample_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, preprocessing: str | list[str] = "auto", schema=None, seed: int | None = 0):
        self.preprocessing = preprocessing
        self.schema = schema
        self.seed = seed

    # ---- hyperparameters ------------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        names = []
        for klass in cls.__mro__:
            if "__init__" in klass.__dict__:
                sig = inspect.signature(klass.__init__)
                names += [p for p in sig.parameters if p not in ("self", "args", "kwargs")]
        return list(dict.fromkeys(names))

    def get_params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---- the contract ---------------------------------------------------------------------------------
    def fit(self, X, columns=None) -> GenerativeModel:
        """Fit the generator to the rows of ``X``.

        The column schema (:mod:`heavytail_diffusion.schema`: the table's, with this model's ``schema``
        declarations on top, or inferred) decides how each column is encoded for the model
        (:class:`~heavytail_diffusion.encoding.SchemaEncoder`): atoms and categories as discrete channels
        modelled jointly with the rest, each continuous part mapped from its support onto the real line
        (``preprocessing="auto"``: log for positive and one-sided bounded columns, robust scaling otherwise),
        counts dequantised. Samples are decoded back into the support.

        Parameters
        ----------
        X : Table, DataFrame or array of shape (n, d)
            Training data on the raw scale (finite, n >= 20). Id and time columns of a DataFrame are left
            out with a note.
        columns : sequence of str, optional
            Column names (taken from a Table or DataFrame when not given).
        """
        table = as_table(X, columns=columns, schema=self.schema, min_rows=MIN_TRAIN_ROWS)
        X = check_array(table.values, "X", min_rows=MIN_TRAIN_ROWS, columns=table.columns, allow_constant=False)
        self.columns_ = table.columns
        self.schema_ = table.schema.select(table.columns)
        self.n_features_in_ = X.shape[1]
        t0 = time.perf_counter()
        # the encoder's noise (dequantisation, atom-row fills) has its own stream: tables without atoms,
        # categories or counts keep the model's random stream of earlier versions
        enc_rng = np.random.default_rng(None if self.seed is None else [int(self.seed), 5153])
        self.encoder_ = SchemaEncoder(self.schema_, self.preprocessing).fit(X, seed=enc_rng)
        C = self.encoder_.encode(X, enc_rng, impute=True)
        self.n_channels_ = C.shape[1]
        self.preprocessor_ = Preprocessor(list(self.encoder_.channel_methods_)).fit(
            C, columns=self.encoder_.channel_names_
        )
        Z = self.preprocessor_.transform(C)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._fit(Z, as_generator(self.seed))
            self._rewarn(caught)
            self._calibrate_atoms()
        except DataError as exc:  # raised deep inside (e.g. a GPD margin): name the column, say what to do
            raise DataError(self._explain_fit_error(str(exc), C)) from exc
        except ArithmeticError as exc:  # Python-float overflow in a fit: report it as numerical, with a fix
            raise NumericalError(
                f"{self.name}: numerical overflow while fitting ({exc}); the values are too large on the "
                f"'{self.preprocessing}' scale: use the 'robust' or 'log' preprocessing"
            ) from exc
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    #: model draws used to calibrate the decoding of atom blocks (:meth:`SchemaEncoder.calibrate`)
    atom_calibration_rows: ClassVar[int] = 4000

    def _calibrate_atoms(self) -> None:
        """Calibrate the atom blocks' decoding cut to this model's own draws (own random stream; nothing
        happens for tables without atoms at an end of a column)."""
        if not any(c.order for c in self.encoder_.codecs_):
            return
        rng = np.random.default_rng(None if self.seed is None else [int(self.seed), 4177])
        with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            C = self.preprocessor_.inverse_transform(self._sample(self.atom_calibration_rows, rng))
        self.atom_calibration_ = self.encoder_.calibrate(C)

    def _rewarn(self, caught) -> None:
        """Re-issue the fit's warnings with channel names instead of "X column j"; drop the expected ones
        about the tails of state/category channels and the atom-block side of atom channels (a uniform block
        has a bounded tail by design)."""
        names = self.encoder_.channel_names_
        for w in caught:
            msg = str(w.message)
            m = re.search(r"\bX column (\d+)\b", msg)
            j = int(m.group(1)) if m else -1
            if 0 <= j < len(names) and (
                self.encoder_.discrete_channels_[j]
                or (self.encoder_.block_sides_[j] and self.encoder_.block_sides_[j] in msg)
            ):
                continue
            msg = re.sub(r"\bX column (\d+)\b", lambda m: column_label(names, int(m.group(1))), msg)
            warnings.warn(f"{self.name}: {msg}" if m else msg, w.category, stacklevel=3)

    def _explain_fit_error(self, msg: str, C: np.ndarray) -> str:
        """A fit error from inside the model, with the channel's column name and, for tied data, the fix."""
        names = self.encoder_.channel_names_
        msg = re.sub(r"\bX column (\d+)\b", lambda m: column_label(names, int(m.group(1))), msg)
        out = f"{self.name}: {msg}"
        if re.search(r"tied|are equal|distinct values", msg):
            ties = [1.0 - np.unique(C[:, j]).size / len(C) for j in range(C.shape[1])]
            j = int(np.argmax(ties))
            out += (
                f" ({column_label(names, j)} repeats values in {ties[j]:.0%} of its rows). Declare the column's "
                "point masses or grid so they are modelled apart from its continuous part: "
                "schema={'col': 'positive:atoms=1e6'} or 'real:step=0.01' (CLI --schema COL=KIND:atoms=...,step=...)"
            )
        return out

    def sample(
        self,
        n: int,
        seed: int | np.random.Generator | None = None,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        **options,
    ) -> np.ndarray:
        """Draw ``n`` synthetic rows on the raw data scale, shape (n, d).

        ``seed`` makes the draw reproducible. Non-finite draws (overflow in the back-transform of an extreme
        draw) are redrawn up to a few times and then reported with :class:`NumericalError`; never returned.
        Extra ``options`` (e.g. ``steps``, ``sampler``) go to the model's sampler.

        The rows are drawn in chunks of at most ``chunk_rows`` (:meth:`sample_chunks`; the result is their
        concatenation), so the working memory of the draw is bounded by the chunk size: only the (n, d)
        output grows with n. For ``n <= chunk_rows`` the draw is the single-block draw of earlier versions
        (same rows for the same seed); beyond the first chunk, rows come from child seeds, so draws of more
        than ``chunk_rows`` rows changed with chunked sampling and depend on ``chunk_rows``.
        """
        self._check_fitted()
        n = check_positive_int(n, "n")
        t0 = time.perf_counter()
        out = np.empty((n, self.n_features_in_))
        start = 0
        for block in self.sample_chunks(n, seed, chunk_rows=chunk_rows, **options):
            out[start : start + len(block)] = block
            start += len(block)
        self.sample_seconds_ = time.perf_counter() - t0
        return out

    def sample_chunks(
        self,
        n: int,
        seed: int | np.random.Generator | None = None,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        chunks: Iterable[int] | None = None,
        **options,
    ) -> Iterator[np.ndarray]:
        """Yield ``n`` raw-scale rows in consecutive chunks of at most ``chunk_rows`` rows (the last is shorter).

        Concatenating the chunks gives ``sample(n, seed, chunk_rows=chunk_rows)``. Chunk 0 is drawn from the
        generator of ``seed`` itself and chunk ``i >= 1`` from its own child generator
        (:meth:`chunk_generator`), so each chunk can be drawn on its own (in parallel, on other machines)
        from ``(seed, i)`` alone when ``seed`` is an int.

        Parameters
        ----------
        n : int
            Total number of rows.
        seed : int, Generator or None
            An int seeds every chunk reproducibly; a Generator draws chunk 0 and seeds the others through its
            ``spawn`` (numpy >= 1.25); None uses fresh entropy.
        chunk_rows : int, default 100_000
            Rows per chunk.
        chunks : iterable of int, optional
            Draw only these chunk indices (in this order), e.g. one chunk per parallel worker; needs an int
            ``seed``. Default: every chunk, 0 to ``ceil(n / chunk_rows) - 1``.
        **options
            The model's sampling options (``steps``, ``sampler`` for diffusion models).

        Yields
        ------
        ndarray of shape (m, d), m <= chunk_rows
        """
        self._check_fitted()
        n = check_positive_int(n, "n")
        chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
        unknown = sorted(set(options) - set(self.sample_options))
        if unknown:
            allowed = ", ".join(self.sample_options) or "none"
            raise ValueError(
                f"model {self.name!r} does not take sampling option(s) {unknown} (it takes: {allowed})"
            )
        options = {k: v for k, v in options.items() if v is not None}
        n_chunks = -(-n // chunk_rows)
        if chunks is not None:
            chunks = [int(i) for i in chunks]
            if any(not 0 <= i < n_chunks for i in chunks):
                raise ValueError(
                    f"chunks must be indices in [0, {n_chunks}) for n={n}, chunk_rows={chunk_rows}"
                )
            if not isinstance(seed, int | np.integer):
                raise ValueError("seed: drawing selected chunks needs an int seed")
            rngs = (self.chunk_generator(seed, i) for i in chunks)
        elif isinstance(seed, np.random.Generator):
            rngs = iter([seed, *seed.spawn(n_chunks - 1)])
        elif seed is None or isinstance(seed, int | np.integer):
            if seed is None:
                seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
            rngs = (self.chunk_generator(seed, i) for i in range(n_chunks))
        else:
            raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")

        indices = range(n_chunks) if chunks is None else chunks

        def blocks() -> Iterator[np.ndarray]:  # the checks above run at the call, not at the first chunk
            for i in indices:
                yield self._sample_block(min(chunk_rows, n - i * chunk_rows), next(rngs), **options)

        return blocks()

    @staticmethod
    def chunk_generator(seed: int, index: int) -> np.random.Generator:
        """The generator of chunk ``index`` of a chunked draw seeded by the int ``seed``: ``default_rng(seed)``
        for chunk 0 (the unchunked stream), else the child ``SeedSequence(seed, spawn_key=(index,))``
        (independent of the root stream and of the other children, as ``SeedSequence.spawn`` makes them)."""
        seed = int(seed)
        if index == 0:
            return np.random.default_rng(seed)
        return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(index),)))

    def _sample_block(self, n: int, rng: np.random.Generator, **options) -> np.ndarray:
        """``n`` rows on the raw scale from ``rng``: draw on the model scale, map back, redraw non-finite rows."""
        out = np.empty((n, self.n_features_in_))
        todo = np.arange(n)
        for _attempt in range(self.max_sample_retries + 1):
            Z = self._sample(len(todo), rng, **options)
            with np.errstate(over="ignore", invalid="ignore"):
                C = self.preprocessor_.inverse_transform(Z)
                C[~np.isfinite(C).all(axis=1)] = np.nan
                X = self.encoder_.decode(C)  # into each column's support (atoms, categories, bounds)
            ok = np.isfinite(X).all(axis=1)
            out[todo[ok]] = X[ok]
            todo = todo[~ok]
            if len(todo) == 0:
                break
        else:
            raise NumericalError(
                f"{self.name}: {len(todo)} of {n} samples stayed non-finite after {self.max_sample_retries} "
                "redraws (overflow of extreme draws on the raw scale); try the 'signed-log' or 'log' preprocessing"
            )
        return out

    def sample_frame(self, n: int, seed=None, **options) -> pd.DataFrame:
        """Like :meth:`sample`, as a DataFrame with the training column names, categorical labels and
        integer columns as integers."""
        return frame_from_values(self.sample(n, seed=seed, **options), self.schema_)

    @property
    def nfe(self) -> int:
        """Network function evaluations per sample at the default sampler settings (0 for closed-form models)."""
        return 0

    # ---- persistence ----------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Save to the folder ``path`` (JSON manifest + tensors; see :mod:`heavytail_diffusion.persistence`)."""
        self._check_fitted()
        if not self.saveable:
            raise ValueError(f"model {self.name!r} cannot be saved (it holds a user-supplied sampler)")
        params = {k: v for k, v in self.get_params().items()}
        params["schema"] = schema_declarations_jsonable(self.schema)
        cfg, arrays = self._get_state()
        config, tensors = flatten_state({
            "preprocessor": self.preprocessor_.get_state(),
            "encoder": self.encoder_.get_state(),
            "model": (cfg, arrays),
        })  # fmt: skip
        config["params"] = params
        config["columns"] = list(self.columns_)
        config["fit_seconds"] = float(self.fit_seconds_)
        save_folder(path, self.name, config, tensors)

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict) -> GenerativeModel:
        obj = cls(**config["params"])
        obj.columns_ = tuple(config["columns"])
        obj.n_features_in_ = len(obj.columns_)
        obj.fit_seconds_ = config.get("fit_seconds", float("nan"))
        obj.preprocessor_ = Preprocessor.from_state(*unflatten_state(config, tensors, "preprocessor"))
        if "encoder" in config:
            obj.encoder_ = SchemaEncoder.from_state(*unflatten_state(config, tensors, "encoder"))
        else:  # saved before column schemas: every column real, one channel each
            obj.encoder_ = SchemaEncoder.identity(obj.columns_, obj.preprocessor_.methods_)
        if obj.encoder_.schema.names != obj.columns_:
            raise ValueError("the saved schema does not match the saved column names")
        if len(obj.encoder_.channel_methods_) != len(obj.preprocessor_.methods_):
            raise ValueError("the saved encoder and preprocessor disagree on the number of channels")
        obj.schema_ = obj.encoder_.schema
        obj.n_channels_ = obj.encoder_.n_channels_
        mcfg, marrays = unflatten_state(config, tensors, "model")
        obj._set_state(mcfg, marrays)
        return obj

    # ---- to implement -----------------------------------------------------------------------------------
    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator, **options) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict]:
        raise NotImplementedError

    def _set_state(self, config: dict, arrays: dict) -> None:
        raise NotImplementedError

    def _prior_params(self, name: str, params: dict | None) -> dict:
        """Prior hyperparameters, with GPD shapes fixed at 0 on log/signed-log columns for the EVT priors.

        On a log scale a Pareto tail is exponential; a free GPD shape fitted there (noise about +-0.1) would
        turn into a log-Pareto or a bounded tail on the raw scale (measured on the Danish fire losses: free
        shapes gave an implied raw-scale xi of 0.80 where the data have 0.45-0.50).
        """
        params = dict(params or {})
        logged = [m in ("log", "signed-log") for m in self.preprocessor_.methods_]
        uses_margins = name != "flow-evt" or params.get("marginals", "evt") == "evt"
        if name in EVT_MARGIN_PRIORS and uses_margins and any(logged) and "exponential_tails" not in params:
            params["exponential_tails"] = logged
        # a channel whose atom rows form a block at one end: its tails are fractions of the continuous part
        share = getattr(self, "encoder_", None) and self.encoder_.block_share_
        if name in EVT_MARGIN_PRIORS and name != "flow-evt" and share and any(share):
            f = params.get("tail_fraction", 0.05)
            if not isinstance(f, list | tuple):
                params["tail_fraction"] = [float(f) * (1.0 - p) for p in share]
        return params

    def _check_fitted(self) -> None:
        if not hasattr(self, "preprocessor_"):
            raise RuntimeError(f"model {self.name!r} is not fitted; call fit(X) first")


def load_model(path) -> GenerativeModel:
    """Load a model saved with :meth:`GenerativeModel.save`; never executes code from the folder."""
    _ensure_registered()
    name, config, tensors = load_folder(path)
    if name not in MODELS:
        raise ModelFileError(f"{path} holds a model of unknown type {name!r} (from a newer version?)")
    try:
        return MODELS[name]._from_saved(config, tensors)
    except ModelFileError as exc:
        if str(path) in str(exc):
            raise
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: the saved {name!r} model is incomplete or corrupt ({exc})") from None


# ------------------------------------------------------------------------------------------------------------
# Diffusion models: shared denoiser training, sampling and saving
# ------------------------------------------------------------------------------------------------------------


class DiffusionModel(GenerativeModel):
    """Shared machinery of the diffusion generators: an EDM denoiser trained up to a noise level, then a reverse
    sampler (Heun PF-ODE by default) from a start distribution at that level down to sigma_min = 0.002.

    Subclasses define the start distribution and the top noise level.
    """

    sample_options: ClassVar[tuple[str, ...]] = ("steps", "sampler")
    quick_train_steps: ClassVar[int] = 600

    def __init__(
        self,
        steps: int = 10,
        sampler: str = "heun",
        rho: float = 7.0,
        train_steps: int | None = None,
        batch_size: int = DEFAULT_TRAINING["batch_size"],
        lr: float = DEFAULT_TRAINING["lr"],
        width: int | None = None,
        mults: list[int] | None = None,
        patience: int | None = DEFAULT_TRAINING["patience"],
        quick: bool = False,
        device: str = "auto",
        progress: bool = True,
        preprocessing: str | list[str] = "auto",
        schema=None,
        seed: int | None = 0,
    ):
        super().__init__(preprocessing=preprocessing, schema=schema, seed=seed)
        self.steps = steps
        self.sampler = sampler
        self.rho = rho
        self.train_steps = train_steps
        self.batch_size = batch_size
        self.lr = lr
        self.width = width
        self.mults = mults
        self.patience = patience
        self.quick = quick
        self.device = device
        self.progress = progress

    default_train_steps: ClassVar[int] = DEFAULT_TRAINING["steps"]

    def _train(
        self, Z: np.ndarray, sigma_max: float, rng: np.random.Generator, noise_df: float | None = None
    ) -> None:
        from .diffusion import DEFAULT_NET, train_denoiser

        # None means "the default"; 0, negative or empty values are errors, never a silent default
        steps = self.train_steps
        if steps is None:
            steps = self.quick_train_steps if self.quick else self.default_train_steps
        steps = check_positive_int(steps, "train_steps")
        width = check_positive_int(DEFAULT_NET["width"] if self.width is None else self.width, "width")
        mults = DEFAULT_NET["mults"] if self.mults is None else self.mults
        if isinstance(mults, str | bytes) or not hasattr(mults, "__len__") or len(mults) == 0:
            raise ValueError(f"mults must be a non-empty list of positive integers, got {mults!r}")
        mults = [check_positive_int(m, "mults entry") for m in mults]
        self.denoiser_, self.history_ = train_denoiser(
            Z,
            sigma_max,
            steps=steps,
            batch_size=self.batch_size,
            lr=self.lr,
            patience=self.patience,
            width=width,
            mults=mults,
            noise_df=noise_df,
            seed=int(rng.integers(2**31)),
            device=self.device,
            progress=self.progress,
        )

    def _reverse(self, x_T: np.ndarray, sigma_start: float, rng, steps=None, sampler=None) -> np.ndarray:
        from .diffusion import sample

        x, _ = sample(
            self.denoiser_,
            x_T,
            sigma_start,
            steps=check_positive_int(self.steps if steps is None else steps, "steps"),
            sampler=self.sampler if sampler is None else sampler,
            rho=self.rho,
            seed=int(rng.integers(2**31)),
            device=self.device,
        )
        return x

    @property
    def nfe(self) -> int:
        from .diffusion import nfe_for

        return nfe_for(self.sampler, self.steps)

    def _denoiser_state(self) -> tuple[dict, dict]:
        net = self.denoiser_.net
        cfg = {
            "net": dict(net.config),
            "sigma_data": self.denoiser_.sigma_data,
            "noise_df": self.denoiser_.noise_df,
        }
        return cfg, {k: v for k, v in net.state_dict().items()}

    def _load_denoiser(self, cfg: dict, arrays: dict) -> None:
        from .diffusion import Denoiser, MLPDenoiserNet

        net = MLPDenoiserNet(**cfg["net"])
        net.load_state_dict({k: v for k, v in arrays.items()}, strict=True)
        self.denoiser_ = Denoiser(net, cfg["sigma_data"], noise_df=cfg.get("noise_df")).eval()


@register_model("truncated")
class TruncatedDiffusion(DiffusionModel):
    """Truncated diffusion with a heavy-tailed prior at sigma_T (Fassina, Cardoso, Le Corff, Romary 2026).

    Fit: (1) choose the truncation level ``sigma_T`` (``"auto"``: the smallest noise level at which every
    random 1-D projection of ``x + sigma eps`` is unimodal by Hartigan's dip test,
    :func:`~heavytail_diffusion.diffusion.select_sigma_T`); (2) fit the prior, a model of the noised law
    ``p_T`` of ``x + sigma_T eps`` (default ``"evt-copula"``: GPD-tailed margins fitted on the clean rows,
    an empirical copula, plus exact sigma_T noise; see :mod:`heavytail_diffusion.priors`); (3) train an
    EDM denoiser on noise levels up to sigma_T only.
    Sample: draw from the prior and run ``steps`` levels of a reverse sampler from sigma_T to 0.002 (Heun:
    NFE = 2 steps - 1).

    Parameters
    ----------
    sigma_T : "auto" or float
        Truncation level in the preprocessed (robust-scaled) units. ``"auto"`` takes the dip-test level,
        but at least ``min_sigma_T``.
    min_sigma_T : float, default 0.5
        Floor of the automatic sigma_T. Measured (``analyses/results/bench_method.md``): on ``ht10d`` the
        dip-test level is small (0.19-0.33) and varies with the training set; there the copula prior's
        lumpy joint extremes reach the output (worst-direction 0.999-quantile error 0.78) and a slight
        excess of rows close to training rows appears, while at 0.5 quality was equal or better with no
        copying. Unimodal data (a dip-test level at the bottom of the grid) would otherwise get almost no
        noise, and the output would be the prior's. Set 0 to use the dip-test level as it is.

        Copy check (after the fit, for the method only): if more than 5% of 2000 model draws lie closer to
        a training row than 99% of the training rows lie to each other (``copy_fraction_``; about 1% for
        a model that does not copy), an automatic sigma_T is doubled and the prior and denoiser refitted,
        at most twice; a warning is given if the model still copies (or at once for a given sigma_T).
        Measured (``analyses/results/benchmark_paper``): on HT-100D at sigma_T = 0.5 the empirical-copula
        prior's draws stayed next to their training rows and 29% of the samples were copies; at 1.0, none.
    prior : str
        Prior name (:data:`heavytail_diffusion.priors.PRIORS`).
    prior_params : dict, optional
        Hyperparameters of the prior.
    tail_calibration : bool, default True
        Where a start value lies in its column's tail (noised tail probability below 0.05), blend the
        sampler's output towards the prior's exact 1-D transport of that value from sigma_T to 0, fully
        beyond 0.01 (:class:`~heavytail_diffusion.diffusion.tail_calibration.TailCalibration`): the
        network pulls draws beyond the training data inwards, and the prior's GPD margins are then kept in
        the output's tails. Deterministic, no fit-time cost. Needs a prior with GPD margins and exact
        sigma_T noise (the EVT-copula priors); ignored otherwise. Measured: ``analyses/results/method_tails.md``.
    steps, sampler, rho : reverse sampler settings (Karras grid, ``"heun"``, ``"ddpm"`` or ``"euler"``).
    train_steps, batch_size, lr, width, mults, patience : denoiser training (see
        :func:`~heavytail_diffusion.diffusion.train_denoiser`); ``quick=True`` trains briefly (demos, tests).
    device : "auto", "cpu" or "cuda"
    progress : bool
        Progress bars on a terminal.
    preprocessing : str or list of str
        Per-column transform (:class:`~heavytail_diffusion.preprocessing.Preprocessor`).
    seed : int
        Seeds every random step of the fit.

    Attributes
    ----------
    sigma_T_ : float
    sigma_T_selection_ : SigmaTSelection or None (when sigma_T was given)
    copy_fraction_ : float
        The fit-time copy check's share of near-copies (see ``min_sigma_T``).
    tail_calibration_ : TailCalibration or None
    prior_ : Prior
    denoiser_ : Denoiser
    history_ : DataFrame of the denoiser's training/validation losses
    """

    default_prior: ClassVar[str | None] = None  # None: priors.DEFAULT_PRIOR
    #: fit-time copy check (the method only; the start baselines keep their sigma_T whatever they copy)
    check_copies: ClassVar[bool] = True
    #: share of generated rows allowed closer to a training row than 99% of the training rows are to each
    #: other (a model that does not copy gives about 0.01)
    max_copy_fraction: ClassVar[float] = 0.05
    #: times an automatic sigma_T is doubled when the fitted model copies
    max_sigma_T_doublings: ClassVar[int] = 2

    def __init__(
        self,
        sigma_T: str | float = "auto",
        min_sigma_T: float = 0.5,
        prior: str | None = None,
        prior_params: dict | None = None,
        tail_calibration: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sigma_T = sigma_T
        self.min_sigma_T = min_sigma_T
        self.prior = prior
        self.prior_params = prior_params
        self.tail_calibration = tail_calibration

    def _prior_name(self) -> str:
        from .priors import DEFAULT_PRIOR

        return self.prior or self.default_prior or DEFAULT_PRIOR

    def _choose_sigma_T(self, Z: np.ndarray, rng: np.random.Generator) -> float:
        from .diffusion import select_sigma_T

        if isinstance(self.sigma_T, str):
            if self.sigma_T != "auto":
                raise ValueError(f"sigma_T must be 'auto' or a positive number, got {self.sigma_T!r}")
            floor = float(self.min_sigma_T)
            if not (np.isfinite(floor) and floor >= 0):
                raise ValueError(f"min_sigma_T must be a finite number >= 0, got {self.min_sigma_T!r}")
            self.sigma_T_selection_ = select_sigma_T(Z, seed=int(rng.integers(2**31)))
            return max(float(self.sigma_T_selection_.sigma_T), floor)
        self.sigma_T_selection_ = None
        s = float(self.sigma_T)
        if not (np.isfinite(s) and s > SIGMA_MIN):
            raise ValueError(f"sigma_T must be a finite number > {SIGMA_MIN:g} (the last sampler level), got {s}")
        return s

    def _make_prior(self):
        from .priors import make_prior

        name = self._prior_name()
        params = self._prior_params(name, self.prior_params)
        if name.startswith("flow") and "device" not in params:
            params["device"] = self.device  # the flow prior trains where the denoiser does
        return make_prior(name, **params)

    def _fit(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        from .diffusion.tail_calibration import calibrate_model_tails

        self.tail_calibration_ = None
        self._fit_prior_and_denoiser(Z, rng)
        if self.tail_calibration:
            self.tail_calibration_ = calibrate_model_tails(self)

    def _fit_prior_and_denoiser(self, Z: np.ndarray, rng: np.random.Generator) -> None:
        self.sigma_T_ = self._choose_sigma_T(Z, rng)
        self.copy_fraction_ = None
        auto = isinstance(self.sigma_T, str)
        for attempt in range(1 + (self.max_sigma_T_doublings if auto else 0)):
            self.prior_ = self._make_prior().fit(Z, self.sigma_T_, seed=int(rng.integers(2**31)))
            self._train(Z, self.sigma_T_, rng)
            if not self.check_copies:
                return
            self.copy_fraction_ = self._copy_fraction(Z)
            if self.copy_fraction_ <= self.max_copy_fraction:
                return
            if auto and attempt < self.max_sigma_T_doublings:
                self.sigma_T_ *= 2.0  # refit the prior and the denoiser at twice the level
        warnings.warn(
            f"{self.name}: {self.copy_fraction_:.0%} of test draws lie closer to a training row than 99% of "
            f"the training rows lie to each other (a model that does not copy gives about 1%): at sigma_T = "
            f"{self.sigma_T_:.3g} the prior's draws stay close to the training rows they come from. Refit with "
            f"a larger sigma_T (e.g. sigma_T={2 * self.sigma_T_:.3g}) or more training rows",
            UserWarning,
            stacklevel=3,
        )

    def _copy_fraction(self, Z: np.ndarray, m: int = 2000) -> float:
        """Memorisation check on the preprocessed scale: the share of ``m`` model draws nearer to a training row
        than the 1st percentile of the training rows' distances to their nearest OTHER training row (for
        fresh rows of the data's law this share is about 0.01; the measured yardstick of
        ``analyses/benchmark_paper.py`` uses held-out rows instead). Seeded apart from the fit's stream.

        Large n: only ``m`` reference rows and ``m`` draws are used, whatever n; the nearest-row searches run
        against all n rows (a k-d tree up to 16 dimensions). The share is a binomial proportion of ``m``
        draws, standard error sqrt(0.05 * 0.95 / 2000) = 0.5 points at the 5% limit; the distance threshold
        is the 20th smallest of 2000 nearest-row distances (about +-22% in probability, a 0.8-1.2% share
        for fresh rows instead of 1%)."""
        from .diagnostics.distances import nearest_distances

        rng = np.random.default_rng([0 if self.seed is None else int(self.seed), 9173])
        n = Z.shape[0]
        ref = Z[rng.choice(n, size=min(n, m), replace=False)]
        threshold = float(np.quantile(nearest_distances(ref, Z, exclude_self=True), 0.01))
        if not threshold > 0:  # duplicated rows: no scale to judge copies by
            return 0.0
        G = self._sample(m, rng)
        G = G[np.isfinite(G).all(axis=1)]
        return float(np.mean(nearest_distances(G, Z) < threshold)) if len(G) else 0.0

    def _start(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.prior_.sample(n, seed=rng)

    def _sample(self, n: int, rng: np.random.Generator, steps=None, sampler=None) -> np.ndarray:
        x_T = self._start(n, rng)
        x = self._reverse(x_T, self.sigma_T_, rng, steps=steps, sampler=sampler)
        cal = getattr(self, "tail_calibration_", None)
        return x if cal is None else cal.transform(x, x_T)

    def _get_state(self) -> tuple[dict, dict]:
        dcfg, darrays = self._denoiser_state()
        pcfg = {"name": self._prior_name(), "config": self.prior_.get_config()}
        parts = {"denoiser": (dcfg, darrays), "prior": (pcfg, self.prior_.state_dict())}
        cal = getattr(self, "tail_calibration_", None)
        if cal is not None:
            parts["tail_calibration"] = (cal.get_config(), cal.state_dict())
        config, tensors = flatten_state(parts)
        config["sigma_T"] = self.sigma_T_
        return config, tensors

    def _set_state(self, config: dict, arrays: dict) -> None:
        from .priors import load_prior

        self.sigma_T_ = float(config["sigma_T"])
        self.sigma_T_selection_ = None
        self.copy_fraction_ = None  # a fit-time check; not saved
        self._load_denoiser(*unflatten_state(config, arrays, "denoiser"))
        pcfg, parrays = unflatten_state(config, arrays, "prior")
        self.prior_ = load_prior(pcfg["name"], pcfg["config"], parrays)
        self.tail_calibration_ = None  # models saved before the tail calibration, or fitted without it
        if "tail_calibration" in config:
            from .diffusion.tail_calibration import TailCalibration

            ccfg, carrays = unflatten_state(config, arrays, "tail_calibration")
            self.tail_calibration_ = TailCalibration.from_state(ccfg, carrays, self.prior_.margins_, self.sigma_T_)


@register_model("gaussian-start")
class GaussianStart(TruncatedDiffusion):
    """Baseline: the truncated denoiser started from N(0, sigma_T^2 I) (isolates the value of the learned prior)."""

    default_prior = "gaussian"
    check_copies = False


@register_model("empirical-start")
class EmpiricalStart(TruncatedDiffusion):
    """Baseline: the truncated denoiser started from training rows + sigma_T noise (cannot pass the data's extremes)."""

    default_prior = "empirical"
    check_copies = False
