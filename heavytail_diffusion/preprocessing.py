"""Invertible per-column transforms applied inside the models, so users pass raw data and get raw-scale samples."""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .validation import check_array, column_label

__all__ = ["TRANSFORMS", "Preprocessor"]

TRANSFORMS = ("robust", "standard", "log", "signed-log", "none")

# 1.3489795 = IQR of N(0, 1): dividing the IQR by it makes the robust scale equal the std for Gaussian data.
_IQR_NORMAL = 1.3489795003921634


class Preprocessor:
    """Column-wise invertible transform ``z = (g(x) - loc) / scale``.

    ``g`` is the identity (``"robust"``, ``"standard"``), ``log`` (``"log"``, strictly positive columns)
    or the signed log ``slog(x) = sign(x) log1p(|x|)`` (``"signed-log"``, two-sided data spanning orders
    of magnitude). ``loc``/``scale`` are the median and IQR/1.349 of ``g(x)`` (robust to the extremes,
    unlike the standard deviation, which heavy tails make erratic) or the mean and standard deviation
    (``"standard"``); ``"none"`` leaves the data as they are.

    Parameters
    ----------
    method : str or sequence of str
        One of ``TRANSFORMS`` for every column, or one per column.

    Attributes
    ----------
    methods_ : tuple of str, one per column
    loc_, scale_ : ndarray of shape (d,)
    """

    def __init__(self, method: str | list[str] | tuple[str, ...] = "robust"):
        self.method = method

    def fit(self, X, columns=None) -> Preprocessor:
        X = check_array(X, "X", columns=columns)
        d = X.shape[1]
        methods = [self.method] * d if isinstance(self.method, str) else list(self.method)
        if len(methods) != d:
            raise ValueError(f"method lists {len(methods)} transforms but X has {d} columns")
        for j, m in enumerate(methods):
            if m not in TRANSFORMS:
                raise ValueError(
                    f"unknown transform {m!r} for {column_label(columns, j)}; choose from {TRANSFORMS}"
                )
            if m == "log" and np.any(X[:, j] <= 0):
                i = int(np.argmax(X[:, j] <= 0))
                raise DataError(
                    f"{column_label(columns, j)} has non-positive values (first: {X[i, j]:g} at row {i}); "
                    "the 'log' transform needs strictly positive data (use 'signed-log' or 'robust')"
                )
        self.methods_ = tuple(methods)
        G = self._forward_g(X)
        loc, scale = np.zeros(d), np.ones(d)
        for j, m in enumerate(self.methods_):
            g = G[:, j]
            if m == "none":
                continue
            if m == "standard":
                # mean and std of g / max|g|, scaled back: finite for values up to the float64 maximum
                big = np.max(np.abs(g))
                big = big if big > 0 else 1.0
                loc[j], scale[j] = big * np.mean(g / big), big * np.std(g / big)
            else:
                q25, q50, q75 = np.quantile(g, [0.25, 0.5, 0.75])
                loc[j], scale[j] = q50, (q75 - q25) / _IQR_NORMAL
                # more than half the values tied: fall back to the mean absolute deviation
                if not scale[j] > 0:
                    scale[j] = np.mean(np.abs(g - q50))
            if not (np.isfinite(scale[j]) and scale[j] > 0):
                raise DataError(
                    f"{column_label(columns, j)} has no spread after the '{m}' transform (constant?)"
                )
        self.loc_, self.scale_ = loc, scale
        self.n_features_in_ = d
        return self

    def _forward_g(self, X: np.ndarray) -> np.ndarray:
        G = np.array(X, dtype=np.float64, copy=True)
        for j, m in enumerate(self.methods_):
            if m == "log":
                G[:, j] = np.log(X[:, j])
            elif m == "signed-log":
                G[:, j] = np.sign(X[:, j]) * np.log1p(np.abs(X[:, j]))
        return G

    def transform(self, X) -> np.ndarray:
        """Map raw data (n, d) to the model scale."""
        self._check_fitted()
        X = check_array(X, "X", dim=self.n_features_in_)
        for j, m in enumerate(self.methods_):
            if m == "log" and np.any(X[:, j] <= 0):
                raise DataError(f"column {j} has non-positive values but was fitted with the 'log' transform")
        return (self._forward_g(X) - self.loc_) / self.scale_

    def inverse_transform(self, Z) -> np.ndarray:
        """Map model-scale values (n, d) back to the raw data scale (overflow gives inf, checked by callers)."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float64)
        G = Z * self.scale_ + self.loc_
        X = G.copy()
        with np.errstate(over="ignore"):
            for j, m in enumerate(self.methods_):
                if m == "log":
                    X[:, j] = np.exp(G[:, j])
                elif m == "signed-log":
                    X[:, j] = np.sign(G[:, j]) * np.expm1(np.abs(G[:, j]))
        return X

    def fit_transform(self, X, columns=None) -> np.ndarray:
        return self.fit(X, columns=columns).transform(X)

    def _check_fitted(self) -> None:
        if not hasattr(self, "loc_"):
            raise RuntimeError("Preprocessor is not fitted; call fit(X) first")

    # --- serialisation: JSON-able config + arrays (no pickle) ---
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        self._check_fitted()
        return {"methods": list(self.methods_)}, {"loc": self.loc_, "scale": self.scale_}

    @classmethod
    def from_state(cls, config: dict, arrays: dict) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`get_state`, checking every value's domain.

        Raises
        ------
        ModelFileError
            For an unknown transform name, loc/scale of the wrong length, a non-finite loc, or a scale that
            is not a finite number > 0 (a tampered or corrupt model file).
        """
        from .errors import ModelFileError

        methods = config.get("methods") if isinstance(config, dict) else None
        if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
            raise ModelFileError("preprocessor: 'methods' must be a non-empty list of transform names")
        unknown = sorted({m for m in methods if m not in TRANSFORMS})
        if unknown:
            raise ModelFileError(
                f"preprocessor: unknown transform(s) {unknown}; known: {', '.join(TRANSFORMS)}"
            )
        if "loc" not in arrays or "scale" not in arrays:
            raise ModelFileError("preprocessor: the saved state lacks 'loc' or 'scale'")
        loc = np.asarray(arrays["loc"], dtype=np.float64)
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        d = len(methods)
        if loc.shape != (d,) or scale.shape != (d,):
            raise ModelFileError(
                f"preprocessor: loc and scale must have {d} values (one per column), got shapes "
                f"{loc.shape} and {scale.shape}"
            )
        if not np.isfinite(loc).all() or not (np.isfinite(scale).all() and (scale > 0).all()):
            j = int(np.argmax(~np.isfinite(loc) | ~(np.isfinite(scale) & (scale > 0))))
            raise ModelFileError(
                f"preprocessor: column {j} has loc {float(loc[j])!r} and scale {float(scale[j])!r}; a finite loc and a "
                "finite scale > 0 are required"
            )
        obj = cls(list(methods))
        obj.methods_ = tuple(methods)
        obj.loc_, obj.scale_ = loc, scale
        obj.n_features_in_ = d
        return obj
