"""The ``heavytail`` command line.

Each subcommand lives in its own module of this package and exposes ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Errors that users can fix (bad files, bad
arguments) are printed as one line and give exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings

from .. import __version__

__all__ = ["build_parser", "main"]

# Order = order in --help. Modules are imported lazily so that `heavytail --help` stays fast.
COMMANDS = ["datasets", "benchmark", "diagnose", "fit", "sample", "compare", "score"]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line, like the toolkit's other errors (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _one_line(exc: BaseException) -> str:
    """The error's message on one line (third-party messages can span several)."""
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    if isinstance(exc, MemoryError):
        msg = f"out of memory ({exc or 'ask for fewer rows'})"
    elif isinstance(exc, ArithmeticError):
        msg = f"numerical overflow or division by zero ({exc}); are the values too large? rescale the data"
    return " ".join(str(msg).split())


#: numpy's floating-point and empty-reduction warnings: the toolkit checks for non-finite results itself and
#: reports them in its own words, so these never reach a user (``--debug`` shows them).
_NUMPY_WARNINGS = (
    r".*encountered in",
    r"Mean of empty slice",
    r"Degrees of freedom <= 0",
    r"invalid value",
)


def _hide_numpy_warnings() -> None:
    """Ignore numpy's raw RuntimeWarnings ("overflow encountered in exp", ...) for the current command."""
    for pattern in _NUMPY_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern, category=RuntimeWarning)


def _load(name: str):
    return importlib.import_module(f"{__name__}.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="heavytail",
        description="Heavy-tailed tabular data: extreme-value diagnostics and synthetic samples whose tails are right.",
    )
    parser.add_argument("--version", action="version", version=f"heavytail-diffusion {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress information")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(__name__):
                continue  # command not available in this build
            raise
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    logging.captureWarnings(True)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    format_warning = warnings.formatwarning
    if not args.debug:  # one line per warning, without the source line that triggered it
        warnings.formatwarning = lambda message, *_args, **_kw: " ".join(str(message).split())
    try:
        with warnings.catch_warnings():
            if not args.debug:
                _hide_numpy_warnings()
            return int(args._run(args) or 0)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except (ValueError, OSError, KeyError, RuntimeError, ArithmeticError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"heavytail {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("heavytail: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = format_warning
