"""Exception types raised at the toolkit's edges."""

__all__ = ["DataError", "ModelFileError", "NumericalError"]


class DataError(ValueError):
    """Input data (a file, a table, an array or an argument about them) is unusable as given.

    The message names the file, column and, where relevant, the first offending row, and says what to do.
    """


class ModelFileError(ValueError):
    """A saved model folder is missing, corrupt, from another tool or from an incompatible version."""


class NumericalError(RuntimeError):
    """A fit or a sampler produced non-finite numbers (NaN loss, overflow) and could not recover."""
