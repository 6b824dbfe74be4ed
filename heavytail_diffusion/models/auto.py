"""``auto``: choose the generator on held-out rows by the tail scorecard, then refit it on every row."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import scorecard as sc
from ..data import Table
from ..errors import DataError, ModelFileError
from ..persistence import unflatten_state
from ..validation import check_positive_int, check_probability
from .base import GenerativeModel
from .registry import MODELS, check_model_names, make_model, model_params, register_model

__all__ = ["AutoModel"]

#: the scorecard families the choice is made on (mean of them: "tail error")
CRITERION = ("q99_error", "q999_error")


@register_model("auto")
class AutoModel(GenerativeModel):
    """The generator chosen on held-out rows by the tail scorecard (default: the method or evt-t-copula).

    Each candidate is fitted on part of the rows, its draws are scored against the held-out rows with the
    tail scorecard, and the winner is refitted on every row.

    For each of ``n_splits`` random splits (:func:`heavytail_diffusion.scorecard.make_splits`,
    ``validation_fraction`` of the rows held out) every candidate is fitted on the other rows (seed
    ``seed + split``) and draws ``n_samples`` rows; :func:`~heavytail_diffusion.scorecard.score_split` scores
    them against the held-out rows. A candidate's *tail error* on a split is the mean of the scorecard's
    ``q99_error`` and ``q999_error`` (|relative error| of the 0.99 and 0.999 quantiles, mean over the tail
    columns and both tails of a signed column; a GPD-extrapolated reference where the held-out rows are too
    few). The candidate with the smallest mean tail error over the splits wins; a candidate listed earlier
    wins unless a later one is lower by more than ``tolerance`` (relative), so the default method is kept
    when the others only tie with it. The winner is then refitted on all rows with ``seed``
    (``refit=False`` keeps the split-0 fit). ``selection_`` holds the per-split numbers and ``reason_``
    says why.

    With too few rows to hold out (fewer than 20 on either side) or no column with a tail (all
    categorical), the first candidate is fitted without a choice, with a warning.

    Parameters
    ----------
    candidates : sequence of str, default ("truncated", "evt-t-copula")
        Registered generator names, in order of preference (see ``tolerance``). Default: the method and the
        closed-form EVT copula model (GPD margins, Student-t copula), the generators that were best on the
        held-out real tables (``analyses/results/auto.md``).
    candidate_params : dict name -> dict, optional
        Hyperparameters per candidate (e.g. ``{"truncated": {"train_steps": 1000}}``).
    n_splits : int, default 2
        Validation splits.
    validation_fraction : float, default 0.3
        Share of rows held out in each split.
    n_samples : int, optional
        Rows drawn per candidate and split (default ``max(100000, 2 * n_validation)``: the candidates' own
        sampling noise at the 0.999 quantile, about 10 draws beyond it per 10,000, was as large as the gaps
        between them, ``analyses/results/auto.md``).
    tolerance : float, default 0.05
        Relative margin a later candidate needs to beat an earlier one.
    refit : bool, default True
        Refit the winner on every row.
    quick : bool
        Each candidate's quick settings (demos, smoke tests).
    progress : bool
        Print one line per validation fit.
    preprocessing, schema, seed : as for every generator (given to each candidate).

    Attributes
    ----------
    model_ : GenerativeModel
        The chosen, fitted generator (``sample`` draws from it).
    chosen_ : str
        Its name.
    selection_ : DataFrame
        One row per (candidate, split): ``tail_error``, ``q99_error``, ``q999_error`` and their noise floors
        (two halves of the held-out rows), ``fit_seconds``, ``note`` (the error of a candidate that failed).
    reason_ : str
        The choice in one sentence, with the numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from heavytail_diffusion.models import make_model
    >>> X = np.random.default_rng(0).standard_t(3, size=(400, 2))
    >>> m = make_model("auto", candidates=["evt-t-copula", "gaussian-start"], quick=True, progress=False)
    >>> m = m.fit(X)
    >>> m.chosen_ in ("evt-t-copula", "gaussian-start"), m.sample(5, seed=0).shape
    (True, (5, 2))
    """

    sample_options: ClassVar[tuple[str, ...]] = ("steps", "sampler")

    def __init__(
        self,
        candidates: tuple[str, ...] | list[str] | str = ("truncated", "evt-t-copula"),
        candidate_params: dict[str, dict[str, Any]] | None = None,
        n_splits: int = 2,
        validation_fraction: float = 0.3,
        n_samples: int | None = None,
        tolerance: float = 0.05,
        refit: bool = True,
        quick: bool = False,
        progress: bool = True,
        preprocessing: str | list[str] = "auto",
        schema=None,
        seed: int | None = 0,
    ):
        super().__init__(preprocessing=preprocessing, schema=schema, seed=seed)
        self.candidates = candidates
        self.candidate_params = candidate_params
        self.n_splits = n_splits
        self.validation_fraction = validation_fraction
        self.n_samples = n_samples
        self.tolerance = tolerance
        self.refit = refit
        self.quick = quick
        self.progress = progress

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"quick": True}

    # ---------------------------------------------------------------- checks
    def _check_params(self) -> list[str]:
        if isinstance(self.candidates, str):
            names = [c.strip() for c in self.candidates.split(",") if c.strip()]
        else:
            names = list(self.candidates)
        if not names:
            raise ValueError("candidates: give at least one generator name")
        names = check_model_names(names)
        if "auto" in names:
            raise ValueError("candidates: 'auto' cannot be its own candidate")
        params = dict(self.candidate_params or {})
        stray = sorted(set(params) - set(names))
        if stray:
            raise ValueError(f"candidate_params names model(s) {stray} that are not candidates ({names})")
        check_positive_int(self.n_splits, "n_splits")
        check_probability(self.validation_fraction, "validation_fraction")
        if self.n_samples is not None:
            check_positive_int(self.n_samples, "n_samples", minimum=20)
        t = self.tolerance
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t < 1 or not math.isfinite(t):
            raise ValueError(f"tolerance must be a number in [0, 1), got {t!r}")
        return names

    def _candidate(self, name: str, seed: int | None, progress: bool) -> GenerativeModel:
        params = model_params(name, quick=self.quick, progress=progress, preprocessing=self.preprocessing,
                              user=(self.candidate_params or {}).get(name, {}))  # fmt: skip
        params.setdefault("seed", seed)
        return make_model(name, **params)

    # ---------------------------------------------------------------- fit
    def fit(self, X, columns=None) -> AutoModel:
        """Choose a candidate on validation splits and fit it (see the class docstring).

        Parameters
        ----------
        X : Table, DataFrame or array of shape (n, d)
            Training rows on the raw scale (finite, n >= 20).
        columns : sequence of str, optional
            Column names.

        Returns
        -------
        self : AutoModel
        """
        names = self._check_params()
        t0 = time.perf_counter()
        table, values = self._training_table(X, columns)
        cols = tuple(table.columns)
        kinds = sc.column_kinds(table.schema, cols)
        tail_idx = sc.tail_columns(cols, kinds)
        n_val = round(self.validation_fraction * len(values))
        rows, split0 = [], {}
        if len(names) == 1:
            chosen, reason = names[0], f"one candidate, {names[0]!r}: no choice to make"
        elif not tail_idx:
            chosen, reason = names[0], f"no column has a tail to score (kinds {kinds}); kept {names[0]!r}"
            warnings.warn(f"auto: {reason}", UserWarning, stacklevel=2)
        elif n_val < 20 or len(values) - n_val < 20:
            chosen = names[0]
            reason = (f"{len(values)} rows are too few to hold out a validation split of 20 rows or more "
                      f"(validation_fraction {self.validation_fraction}); kept {names[0]!r} without a choice")  # fmt: skip
            warnings.warn(f"auto: {reason}", UserWarning, stacklevel=2)
        else:
            rows, split0 = self._validate(table, values, names, tail_idx, kinds)
            chosen, reason = self._choose(pd.DataFrame(rows), names)
        self.selection_ = pd.DataFrame(rows, columns=["candidate", "split", "tail_error", "q99_error",
                                                      "q999_error", "tail_error_floor", "q99_error_floor",
                                                      "q999_error_floor", "fit_seconds", "note"])  # fmt: skip
        self.chosen_, self.reason_ = chosen, reason
        if self.progress:
            print(f"auto: {reason}", flush=True)
        kept = split0.get(chosen)
        if self.refit or kept is None:
            kept = self._candidate(chosen, self.seed, self.progress).fit(table)
        self._adopt(kept)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _validate(self, table: Table, values, names, tail_idx, kinds) -> tuple[list[dict], dict]:
        """Fit, draw and score every candidate on every split: one dict per (candidate, split), and the
        candidates fitted on split 0 (kept for ``refit=False``)."""
        base_seed = 0 if self.seed is None else int(self.seed)
        splits = sc.make_splits(len(values), self.n_splits, self.validation_fraction, seed=base_seed)
        cols = tuple(table.columns)
        discrete = [j for j in tail_idx if kinds[cols[j]] == "integer"]
        split0, rows, seen = {}, [], set()
        for s, (tr, te) in enumerate(splits):
            n_samples = self.n_samples or max(100_000, 2 * len(te))
            part = Table(values[tr], cols, table.source, schema=table.schema)
            samples, fit_s = {}, {}
            for name in names:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        m = self._candidate(name, base_seed + s, progress=False).fit(part)
                        samples[name] = m.sample(n_samples, seed=base_seed + 1 + 1000 * s)
                        fit_s[name] = m.fit_seconds_
                        if s == 0:
                            split0[name] = m
                    except DataError:
                        raise
                    except Exception as exc:  # noqa: BLE001  (one candidate's failure must not stop the choice)
                        rows.append(
                            {"candidate": name, "split": s, "fit_seconds": math.nan, "note": sc._note(exc)}
                        )
                for w in caught:  # each validation fit's warnings once per candidate
                    msg = " ".join(str(w.message).split())
                    if (name, msg) not in seen:
                        seen.add((name, msg))
                        warnings.warn(f"auto: {name} (validation fit): {msg}", w.category, stacklevel=3)
                if self.progress and name in samples:
                    print(
                        f"auto: split {s + 1}/{len(splits)}: {name} fitted in {fit_s[name]:.1f} s", flush=True
                    )
            if not samples:
                continue
            M = sc.score_split(values[te], samples, columns=cols, tail_idx=tail_idx, split=s, seed=base_seed + s,
                               quick=True, floors=True, joint=False, discrete=discrete)  # fmt: skip
            summ = sc.split_summary(M).set_index("model")
            for name in samples:
                r = {"candidate": name, "split": s, "fit_seconds": fit_s[name], "note": ""}
                for fam in CRITERION:
                    r[fam] = float(summ.loc[name, fam])
                    r[fam + "_floor"] = float(summ.loc[name, fam + "_floor"])
                r["tail_error"] = float(np.mean([r[f] for f in CRITERION]))
                r["tail_error_floor"] = float(np.mean([r[f + "_floor"] for f in CRITERION]))
                rows.append(r)
        return rows, split0

    def _choose(self, sel: pd.DataFrame, names: Sequence[str]) -> tuple[str, str]:
        """The winner by mean tail error (earlier candidates win within ``tolerance``) and the reason."""
        failed = sorted(set(sel.loc[sel["note"] != "", "candidate"]))
        ok = sel[~sel["candidate"].isin(failed)]
        score = {n: float(ok.loc[ok.candidate == n, "tail_error"].mean()) for n in names if n not in failed}
        score = {n: v for n, v in score.items() if np.isfinite(v)}
        if not score:
            notes = "; ".join(f"{n}: {sel.loc[sel.candidate == n, 'note'].iloc[0]}" for n in failed)
            raise DataError(f"auto: every candidate failed on the validation splits ({notes})")
        best = names[0] if names[0] in score else next(iter(score))
        for n in score:  # in order of preference
            if score[n] < score[best] * (1.0 - self.tolerance):
                best = n
        floor = float(ok["tail_error_floor"].mean())
        table = ", ".join(f"{n} {v:.3g}" for n, v in score.items())
        reason = (f"chose {best!r}: mean held-out tail error (0.99/0.999 quantiles) {table} over "
                  f"{ok.split.nunique()} split(s) (noise floor {floor:.3g}; a later candidate needs to be "
                  f"{self.tolerance:.0%} lower)")  # fmt: skip
        if failed:
            reason += f"; failed: {', '.join(failed)}"
        return best, reason

    def _adopt(self, model: GenerativeModel) -> None:
        """Take the fitted ``model`` as the one that samples: its columns, schema, encoder and preprocessing."""
        self.model_ = model
        self.columns_, self.schema_ = model.columns_, model.schema_
        self.n_features_in_, self.n_channels_ = model.n_features_in_, model.n_channels_
        self.encoder_, self.preprocessor_ = model.encoder_, model.preprocessor_
        self.sample_options = model.sample_options

    # ---------------------------------------------------------------- sample
    def _sample(self, n: int, rng: np.random.Generator, **options) -> np.ndarray:
        return self.model_._sample(n, rng, **options)

    @property
    def nfe(self) -> int:
        return self.model_.nfe if hasattr(self, "model_") else 0

    def __getattr__(self, name: str):
        # sigma_T_, prior_, ... of the chosen model (only fitted attributes; never during unpickling)
        if name.endswith("_") and not name.startswith("_") and "model_" in self.__dict__:
            return getattr(self.__dict__["model_"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ---------------------------------------------------------------- persistence
    def _saved_state(self) -> tuple[dict, dict]:
        inner_cfg, inner_tensors = self.model_._saved_state()
        params = self.get_params()
        params["candidates"] = list(self._check_params())
        params["candidate_params"] = {k: dict(v) for k, v in (self.candidate_params or {}).items()}
        from ..schema import schema_declarations_jsonable

        params["schema"] = schema_declarations_jsonable(self.schema)
        sel = self.selection_.astype(object).where(self.selection_.notna(), None)
        config = {"params": params, "columns": list(self.columns_), "fit_seconds": float(self.fit_seconds_),
                  "chosen": self.chosen_, "reason": self.reason_, "selection": sel.to_dict(orient="list"),
                  "inner": inner_cfg}  # fmt: skip
        return config, {f"inner.{k}": v for k, v in inner_tensors.items()}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict) -> AutoModel:
        obj = cls(**config["params"])
        chosen = config["chosen"]
        if chosen not in MODELS or chosen == "auto":
            raise ModelFileError(f"the saved choice {chosen!r} is not a generator of this version")
        inner_cfg, inner_tensors = unflatten_state({"inner": config["inner"]}, tensors, "inner")
        obj._adopt(MODELS[chosen]._from_saved(inner_cfg, inner_tensors))
        obj.chosen_, obj.reason_ = chosen, str(config["reason"])
        obj.selection_ = pd.DataFrame(config["selection"])
        obj.fit_seconds_ = float(config.get("fit_seconds", math.nan))
        if tuple(config["columns"]) != tuple(obj.columns_):
            raise ModelFileError("the saved columns do not match the chosen model's")
        return obj
