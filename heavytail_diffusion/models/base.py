"""The base classes of every generator: :class:`GenerativeModel` (validation at the edge, the invertible
preprocessing, chunked sampling, saving) and :class:`DiffusionModel` (denoiser training and reverse sampling).
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

from ..data import as_table, frame_from_values
from ..diffusion.training import DEFAULT_TRAINING
from ..encoding import SchemaEncoder
from ..errors import DataError, NumericalError
from ..persistence import flatten_state, save_folder, unflatten_state
from ..preprocessing import Preprocessor
from ..schema import schema_declarations_jsonable
from ..validation import as_generator, check_array, check_positive_int, column_label

__all__ = ["DEFAULT_CHUNK_ROWS", "EVT_MARGIN_PRIORS", "MIN_TRAIN_ROWS", "DiffusionModel", "GenerativeModel"]

#: Rows per chunk of :meth:`GenerativeModel.sample` (bounded working memory for any n).
DEFAULT_CHUNK_ROWS = 100_000

#: Fewest training rows any generator accepts.
MIN_TRAIN_ROWS = 20

#: Priors whose margins have GPD tails (they get exponential tails on log-transformed columns).
EVT_MARGIN_PRIORS = ("evt-copula", "evt-gaussian-copula", "evt-t-copula", "evt-spectral-copula", "flow-evt")


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

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        """Hyperparameters of a quick fit (demos, smoke tests, ``compare(quick=True)``); empty when the
        defaults are quick already. Each model declares its own."""
        return {}

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

        Returns
        -------
        self : GenerativeModel
            Fitted (``schema_``, ``columns_`` and the model's own fitted attributes set).
        """
        table, X = self._training_table(X, columns)
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

    def _training_table(self, X, columns=None):
        """(table, values): the training rows as a schema'd Table (this model's ``schema`` declarations on
        top) and its values checked (finite, >= MIN_TRAIN_ROWS rows, no constant column)."""
        table = as_table(X, columns=columns, schema=self.schema, min_rows=MIN_TRAIN_ROWS)
        values = check_array(
            table.values, "X", min_rows=MIN_TRAIN_ROWS, columns=table.columns, allow_constant=False
        )
        return table, values

    #: model draws used to calibrate the decoding of atom blocks, multi-atom states and categories
    #: (:meth:`SchemaEncoder.calibrate`); 20,000 keeps the calibration's own noise on a 50% share at about
    #: 0.35 points (4,000 gave 0.8 and, once, 2 points)
    atom_calibration_rows: ClassVar[int] = 20_000

    def _calibrate_atoms(self) -> None:
        """Calibrate the decoding of atoms and categories to this model's own draws (own random stream;
        nothing happens for tables without atoms or categories)."""
        if not any(c.order or c.state_share for c in self.encoder_.codecs_):
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

        Parameters
        ----------
        n : int
            Number of rows, >= 1.
        seed : int, Generator or None
            Seed of the draw (None: fresh entropy).
        chunk_rows : int
            Largest block drawn at once.
        **options
            Sampler options the model accepts (its ``sample_options``, e.g. ``steps``, ``sampler``).

        Returns
        -------
        ndarray, shape (n, d), float64
            Rows in the data's units, inside the support the schema declares.
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
        integer columns as integers.

        Parameters
        ----------
        n, seed, **options
            As in :meth:`sample`.

        Returns
        -------
        DataFrame, shape (n, d)
        """
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
        save_folder(path, self.name, *self._saved_state())

    def _saved_state(self) -> tuple[dict, dict]:
        """(config, tensors) of the model folder: parameters, columns, preprocessing, encoder, model state."""
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
        return config, tensors

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

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        """``quick=True``: a short denoiser training (``quick_train_steps``) unless ``train_steps`` is given."""
        return {"quick": True}

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
        from ..diffusion import DEFAULT_NET, train_denoiser

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
        from ..diffusion import sample

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
        from ..diffusion import nfe_for

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
        from ..diffusion import Denoiser, MLPDenoiserNet

        net = MLPDenoiserNet(**cfg["net"])
        net.load_state_dict({k: v for k, v in arrays.items()}, strict=True)
        self.denoiser_ = Denoiser(net, cfg["sigma_data"], noise_df=cfg.get("noise_df")).eval()
