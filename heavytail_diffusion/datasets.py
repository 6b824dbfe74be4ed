"""The bundled real heavy-tailed datasets: a registry of files with provenance, and their loaders.

The files live in the checkout's ``data/`` folder (with ``data/README.md``: units, origin, licences); the
wheel carries them inside the package as ``heavytail_diffusion/_bundled_data`` (``pyproject.toml``,
``force-include``). :func:`load_dataset` reads one as it is; :func:`heavytail_diffusion.data.load_table`
(``load_table(dataset_path(name))``) gives the validated numeric table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import DataError

__all__ = ["dataset_path", "list_datasets", "load_dataset"]


@dataclass(frozen=True)
class _Dataset:
    file: str
    description: str
    tail: str
    dates: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


_CSN = "Clauset, Shalizi & Newman (2009) Table 6.1, power law pdf exponent"
_DATASETS: dict[str, _Dataset] = {
    "danish": _Dataset(
        "danish_fire_1980_1990.csv",
        "Danish fire insurance losses 1980-1990, millions of DKK (Copenhagen Re)",
        "GPD xi ~ 0.5 above 10 MDKK (McNeil 1997); evd::fpot(u=10): xi 0.497, scale 6.975, 109 exceedances",
        dates=("date",),
        aliases=("danish_fire", "danish_fire_1980_1990"),
    ),
    "lossalae": _Dataset(
        "lossalae.csv",
        "General liability claims: indemnity Loss and ALAE expense, USD (Frees & Valdez 1998)",
        "",
        aliases=("loss_alae",),
    ),
    "sp500": _Dataset(
        "sp500_daily_1999_2018.csv",
        "S&P 500 index daily OHLC, volume and log-return, 1999-2018",
        "",
        dates=("date",),
        aliases=("sp500_daily", "sp500_daily_1999_2018", "s&p500"),
    ),
    "fort_collins": _Dataset(
        "fort_collins_precip_1900_1999.csv",
        "Daily precipitation, inches, one gauge in Fort Collins CO, 1900-1999",
        "GPD above 0.395 in (Katz, Parlange & Naveau 2002; extRemes)",
        aliases=("fort", "fort_collins_precip", "fort_collins_precip_1900_1999"),
    ),
    "crypto": _Dataset(
        "crypto_daily_2010_2018.csv",
        "Daily closing prices in USD of BTC, ETH, LTC, XRP, 2010-2018 (empty before a coin's first day)",
        "",
        dates=("date",),
        aliases=("crypto_daily", "crypto_daily_2010_2018"),
    ),
    "csn_words": _Dataset(
        "csn2009/words.csv",
        "Frequency of each distinct word in Moby Dick (CSN 2009)",
        f"alpha 1.95(2), xmin 7 ({_CSN})",
        aliases=("words",),
    ),
    "csn_cities": _Dataset(
        "csn2009/cities.csv",
        "Populations of US cities, 2000 census (CSN 2009)",
        f"alpha 2.37(8), xmin 52.46 thousand ({_CSN})",
        aliases=("cities",),
    ),
    "csn_terrorism": _Dataset(
        "csn2009/terrorism.csv",
        "Deaths in terrorist attacks worldwide 1968-2006 (CSN 2009)",
        f"alpha 2.4(2), xmin 12 ({_CSN})",
        aliases=("terrorism",),
    ),
    "csn_flares": _Dataset(
        "csn2009/flares.csv",
        "Peak gamma-ray intensity of solar flares 1980-1989 (CSN 2009)",
        f"alpha 1.79(2), xmin 323 ({_CSN})",
        aliases=("flares",),
    ),
    "csn_blackouts": _Dataset(
        "csn2009/blackouts.csv",
        "Customers affected by US electrical blackouts 1984-2002 (CSN 2009)",
        f"alpha 2.3(3), xmin 230 thousand ({_CSN})",
        aliases=("blackouts",),
    ),
}


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


_ALIASES = {_norm(a): key for key, ds in _DATASETS.items() for a in (key, *ds.aliases)}


def _resolve(name) -> str:
    if not isinstance(name, str) or _norm(name) not in _ALIASES:
        valid = ", ".join(_DATASETS)
        near = difflib.get_close_matches(_norm(str(name)), list(_ALIASES), n=2)
        hint = f" Did you mean {', '.join(repr(_ALIASES[n]) for n in near)}?" if near else ""
        raise DataError(f"unknown dataset {name!r}.{hint} Bundled datasets: {valid}")
    return _ALIASES[_norm(name)]


def _data_dir() -> Path:
    """Folder holding the bundled files: inside the installed package, else the checkout's data/."""
    here = Path(__file__).resolve().parent
    for cand in (here / "_bundled_data", here.parent / "data"):
        if (cand / _DATASETS["danish"].file).is_file():
            return cand
    raise DataError(
        f"bundled data not found (looked in {here / '_bundled_data'} and {here.parent / 'data'}); "
        "reinstall the package with `pip install .` or run from a checkout"
    )


def dataset_path(name: str) -> Path:
    """Path of the file behind bundled dataset ``name`` (to pass to :func:`load_table` or the CLI)."""
    return _data_dir() / _DATASETS[_resolve(name)].file


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame, every column as in the file, date columns parsed.

    Parameters
    ----------
    name : str
        One of ``list_datasets().name`` (case-insensitive; file stems such as ``"danish_fire"`` also work).

    Returns
    -------
    pandas.DataFrame
        Missing values (e.g. crypto prices before a coin existed, the first S&P log-return) stay NaN;
        use :func:`load_table` with ``dropna=True`` for a validated numeric table.
    """
    key = _resolve(name)
    ds = _DATASETS[key]
    df = pd.read_csv(dataset_path(key), parse_dates=list(ds.dates) or False)
    return df


@lru_cache(maxsize=1)
def _shapes() -> dict[str, tuple[int, int]]:
    return {k: load_dataset(k).shape for k in _DATASETS}


def list_datasets() -> pd.DataFrame:
    """The bundled datasets: name, file (path relative to the data folder), rows, columns, description and
    a published tail figure (empty where none is stated in the provenance file).

    Rows and columns are counted from the files. See ``data/README.md`` for units, origin and licences.
    """
    shapes = _shapes()
    return pd.DataFrame(
        [
            {
                "name": k,
                "file": ds.file,
                "rows": shapes[k][0],
                "columns": shapes[k][1],
                "description": ds.description,
                "published_tail": ds.tail,
            }
            for k, ds in _DATASETS.items()
        ]
    )
