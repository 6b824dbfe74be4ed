"""``heavytail diagnose``: tail index, GPD/GEV fits, return levels and tail quantiles of every column, with figures."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from itertools import combinations
from pathlib import Path

from ._common import add_columns_argument, print_json, table_options, to_jsonable

__all__ = ["HELP", "NAME", "add_arguments", "parse_thresholds", "run"]

NAME = "diagnose"
HELP = "extreme-value diagnostics of each column: Hill index, GPD/GEV fits, return levels, quantiles, plots"

_EPILOG = """\
examples:
  heavytail diagnose losses.csv                              table on the terminal
  heavytail diagnose "$(heavytail datasets --path danish)" --threshold 10 --out danish/
  heavytail diagnose lossalae.csv --threshold Loss=1e5 ALAE=4e4 --json
  heavytail diagnose daily.csv --columns rain --block-size 365   GEV of annual maxima too
  heavytail diagnose "$(heavytail datasets --path fort_collins)" --columns prec_in --time year --block year
  heavytail diagnose daily.csv --columns rain --time date --threshold 0.4 --decluster   clustered storms
  heavytail diagnose annual_max.csv --block-size 1            rows are maxima: GEV only

All values refer to the upper tail of x (or of -x with --tail lower, |x| with --tail both). xi > 0 is a
heavy tail. Return periods are in observations, in blocks with --block-size, or in years with --time.
"""

MAX_CHI_PAIRS = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``heavytail diagnose``."""
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _EPILOG
    p.add_argument("file", help="data file (CSV, TSV or parquet)")
    add_columns_argument(p)
    p.add_argument(
        "--threshold",
        nargs="+",
        default=["auto"],
        metavar="auto|VALUE|COL=VALUE",
        help="GPD threshold: 'auto' (parameter-stability rule, the default), one number for every column, "
        "and/or COL=VALUE per column (columns not named get the bare value or 'auto'); give FILE first",
    )
    p.add_argument(
        "--block-size",
        type=int,
        default=None,
        metavar="N",
        help="also fit a GEV to maxima of blocks of N rows (1: the rows already are block maxima)",
    )
    p.add_argument(
        "--time",
        metavar="COL",
        default=None,
        help="date (or integer year) column: return periods in years (POT: exceedances per year); the column "
        "is not analysed",
    )
    p.add_argument(
        "--block",
        choices=["year", "season", "month"],
        default=None,
        help="with --time: GEV of calendar-block maxima (return periods in years)",
    )
    p.add_argument(
        "--decluster",
        nargs="?",
        const="auto",
        default=None,
        metavar="RUN_LENGTH",
        help="runs declustering of the exceedances (rows in time order): extremal index and a GPD of the "
        "cluster peaks; RUN_LENGTH (default: automatic, Ferro-Segers) non-exceedances end a cluster",
    )
    p.add_argument(
        "--bayes",
        action="store_true",
        help="also a Bayesian GPD (GEV for block maxima) fit by NUTS (pyro): posterior means, 95%% credible "
        "intervals, R-hat, effective sample size",
    )
    p.add_argument(
        "--bayes-samples",
        type=int,
        default=1000,
        metavar="N",
        help="with --bayes: NUTS draws kept per chain (2 chains; warmup N/2, at least 100; default 1000)",
    )
    p.add_argument(
        "--tail",
        choices=["upper", "lower", "both"],
        default="upper",
        help="analyse x, -x or |x| (default upper)",
    )
    p.add_argument(
        "--dropna", action="store_true", help="drop rows with NaN/inf values (reported) instead of failing"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (Hill interval, automatic k)")
    p.add_argument(
        "--out", metavar="DIR", help="write summary.csv, summary.json, PNG figures and index.md here"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _number(text: str, what: str) -> float | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"--threshold: {what} must be 'auto' or a number, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"--threshold: {what} must be finite, got {text!r}")
    return v


def parse_thresholds(items: list[str], columns: list[str]) -> dict:
    """Turn ``--threshold`` items (auto, VALUE, COL=VALUE; also COL=V,COL2=V2) into column -> value or 'auto'.

    Parameters
    ----------
    items : list of str
        The ``--threshold`` words: at most one bare ``auto`` or finite number (the default for every column)
        and any number of ``COL=VALUE`` items (the last one for a column wins); an item in which every
        comma-separated piece has ``=`` is split at the commas.
    columns : list of str
        The table's column names; every ``COL`` must be one of them.

    Returns
    -------
    thresholds : dict
        Column -> float threshold or ``"auto"``, for every column in ``columns`` (in that order).

    Raises
    ------
    ValueError
        For an unknown column, a value that is neither ``auto`` nor a finite number, or two bare values.
    """
    default: float | str = "auto"
    per: dict = {}
    n_bare = 0
    for item in items:
        pieces = item.split(",") if all("=" in s for s in item.split(",")) else [item]
        for piece in pieces:
            if "=" in piece:
                col, val = (s.strip() for s in piece.rsplit("=", 1))
                if col not in columns:
                    raise ValueError(
                        f"--threshold {piece}: no column named {col!r}; columns: {', '.join(map(repr, columns))}"
                    )
                per[col] = _number(val, f"the value for {col!r}")
            else:
                n_bare += 1
                default = _number(piece, "the value")
    if n_bare > 1:
        raise ValueError(
            "--threshold: give at most one bare value (auto or a number); use COL=VALUE for the others"
        )
    return {c: per.get(c, default) for c in columns}


# ---------------------------------------------------------------------------------------------------------
# text table
# ---------------------------------------------------------------------------------------------------------
def _g(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "inf" if isinstance(v, float) and v == math.inf else "-"
    if isinstance(v, int):
        return str(v)
    return f"{v:.{digits}g}"


def _pm(v, se, digits=3) -> str:
    return f"{_g(v, digits)} +- {_g(se, 2)}" if se is not None else f"{_g(v, digits)} (no valid se)"


class _Notes:
    """The table's footnotes: ``failed(part)`` files a part's error and returns the cell that points to it."""

    def __init__(self, notes: list[str]):
        self.notes = notes

    def failed(self, part: dict) -> str:
        self.notes.append(part["error"])
        return f"failed, see [{len(self.notes)}]"


def _hill_rows(res: dict, n: _Notes) -> list[tuple[str, str]]:
    rows = []
    h = res.get("hill")
    if h is None:
        pass  # block maxima: GEV only
    elif "error" in h:
        rows.append(("Hill xi", n.failed(h)))
    else:
        rows.append(
            (
                f"Hill xi [{h['level']:.0%} CI]",
                f"{_g(h['xi'], 3)} [{_g(h['ci_low'], 3)}, {_g(h['ci_high'], 3)}]",
            )
        )
        rows.append(("Hill k (above)", f"{h['k']} (> {_g(h['threshold'])})"))
    rb = res.get("mvrb")
    if rb is not None:
        if "error" in rb:
            rows.append(("RB-Hill xi", n.failed(rb)))
        else:
            rows.append(
                (
                    "RB-Hill xi [95% CI] (k)",
                    f"{_g(rb['xi'], 3)} [{_g(rb['ci_low'], 3)}, {_g(rb['ci_high'], 3)}] ({rb['k']})",
                )
            )
    return rows


def _gpd_rows(res: dict, n: _Notes) -> list[tuple[str, str]]:
    rows = []
    gp = res.get("gpd")
    if gp is not None:
        rows.append(("GPD threshold u", f"{_g(gp.get('threshold'))} ({gp['threshold_rule']})"))
        if "error" in gp:
            rows.append(("GPD fit", n.failed(gp)))
        else:
            per_year = f", {_g(gp['exceedances_per_year'], 3)}/year" if "exceedances_per_year" in gp else ""
            rows.append(("GPD exceedances", f"{gp['n_exceedances']} ({gp['rate']:.1%}{per_year})"))
            rows.append(("GPD shape xi +- se", _pm(gp["shape"], gp["se_shape"])))
            rows.append(("GPD scale +- se", _pm(gp["scale"], gp["se_scale"], 4)))
            if "se_note" in gp:
                n.notes.append(gp["se_note"])
    dc = res.get("declustered")
    if dc is not None:
        if "error" in dc:
            rows.append(("declustered", n.failed(dc)))
        else:
            rows.append(
                ("clusters (run length)", f"{dc['n_clusters']} ({dc['run_length']}, {dc['run_length_rule']})")
            )
            rows.append(("extremal index", f"{_g(dc['extremal_index_intervals'], 3)} (intervals)"))
            rows.append(("peaks GPD xi +- se", _pm(dc["shape"], dc["se_shape"])))
    return rows


def _gev_and_bayes_rows(res: dict, n: _Notes) -> list[tuple[str, str]]:
    rows = []
    if "gev" in res:
        gv = res["gev"]
        what = f"blocks of {gv['block_size']}" if "block_size" in gv else f"{gv['block']} blocks"
        if "error" in gv:
            rows.append((f"GEV ({what})", n.failed(gv)))
        else:
            rows.append((f"GEV {what}", f"{gv['n_blocks']} maxima"))
            rows.append(("GEV shape xi +- se", _pm(gv["shape"], gv["se_shape"])))
            rows.append(("GEV loc, scale", f"{_g(gv['loc'])}, {_g(gv['scale'])}"))
    by = res.get("bayes")
    if by is not None:
        if "error" in by:
            rows.append(("Bayes", n.failed(by)))
        else:
            xi = by["parameters"]["shape"]
            rows.append(
                (
                    f"Bayes {by['model'].upper()} xi [95% CrI]",
                    f"{_g(xi['mean'], 3)} [{_g(xi['ci_low'], 3)}, {_g(xi['ci_high'], 3)}]",
                )
            )
            rows.append(("Bayes R-hat max, ESS min", f"{_g(by['rhat_max'], 3)}, {_g(by['ess_min'], 3)}"))
    return rows


def _level_and_quantile_rows(res: dict, n: _Notes) -> list[tuple[str, str]]:
    rows = []
    rl = res["return_levels"]
    unit = {"blocks": "blocks", "years": "year"}.get(rl["unit"], "obs")
    for model in ("gpd", "gpd_declustered", "gev"):
        for r in rl.get(model, []):
            label = f"{model.upper().replace('_DECLUSTERED', ' declust.')} {_g(r['period'])}-{unit} level"
            if "error" in r:
                rows.append((label, n.failed(r)))
            else:
                how = "" if r["method"] == "profile" else f" ({r['method']})"
                rows.append((label, f"{_g(r['value'])} [{_g(r['ci_low'])}, {_g(r['ci_high'])}]{how}"))
    q = res.get("quantiles", {})
    for key, val in q.items():
        if key.endswith("_error"):
            continue
        rows.append(
            (key, _g(val) if not (val is None and key.startswith("es_")) else "not reported (xi >= 1)")
        )
    return rows


def _table_rows(res: dict, notes: list[str]) -> list[tuple[str, str]]:
    """The (label, cell) rows of one column's summary; errors, se notes and warnings go to ``notes``."""
    n = _Notes(notes)
    rows = [("n", str(res["n"]))]
    if "years" in res:
        rows.append(("years observed", _g(res["years"])))
    rows += _hill_rows(res, n)
    rows += _gpd_rows(res, n)
    rows += _gev_and_bayes_rows(res, n)
    rows += _level_and_quantile_rows(res, n)
    idx = []
    for w in res.get("warnings", []):
        notes.append("warning: " + w)
        idx.append(f"[{len(notes)}]")
    if idx:
        rows.append(("warnings", "see " + ", ".join(idx)))
    return rows


def _print_table(summary) -> None:
    notes: list[str] = []
    cols = list(summary.columns)
    per = {c: _table_rows(summary.columns[c], notes) for c in cols}
    labels = []
    for c in cols:
        for lab, _ in per[c]:
            if lab not in labels:
                labels.append(lab)
    cells = {c: dict(per[c]) for c in cols}
    lw = max(len(s) for s in labels + ["column"])
    widths = {c: max([len(c)] + [len(v) for v in cells[c].values()]) for c in cols}
    scale = {"upper": "x", "lower": "-x", "both": "|x|"}[summary.tail]
    print(
        f"{summary.source or 'data'}: upper tail of {scale}, 95% intervals; return periods in "
        f"{summary.columns[cols[0]]['return_levels']['unit']}"
    )
    head = f"{'':<{lw}}  " + "  ".join(f"{c:>{widths[c]}}" for c in cols)
    print(head)
    print("-" * len(head))
    for lab in labels:
        print(f"{lab:<{lw}}  " + "  ".join(f"{cells[c].get(lab, ''):>{widths[c]}}" for c in cols))
    for i, msg in enumerate(notes, 1):
        print(f"[{i}] {msg}")


# ---------------------------------------------------------------------------------------------------------
# output folder
# ---------------------------------------------------------------------------------------------------------
def _slug(name: str, used: set) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "column"
    base, i = s, 2
    while s in used:
        s, i = f"{base}_{i}", i + 1
    used.add(s)
    return s


_CAPTIONS = {
    "hill": "Hill estimate of xi against k; look for a plateau. Red: the automatic k with its bootstrap CI.",
    "survival": "Empirical survival P(X >= x) on log-log axes (straight line = Pareto tail) with the GPD tail fit.",
    "gpd_qq": "Exceedances against fitted GPD quantiles; points inside the band along the 1:1 line = good fit.",
    "mean_residual_life": "Mean excess over u; linear above a threshold where the GPD holds.",
    "parameter_stability": "GPD shape and modified scale across thresholds; flat above a good threshold.",
    "return_level": "Return level against return period (log axes) with profile-likelihood CI and data points.",
    "return_level_gev": "GEV return levels of the block maxima, with CI and the empirical maxima.",
    "fit_diagnostic": "GPD fit diagnostic: probability, quantile, return-level and density plots (Coles 2001, fig. 4.5).",
    "fit_diagnostic_gev": "GEV fit diagnostic: probability, quantile, return-level and density plots (Coles 2001, fig. 3.5).",
}


def _gev_figures(res, y, summary, save, col, slug, time) -> None:
    """Return-level and 4-panel figures of the GEV fit of the summary (row blocks or calendar blocks)."""
    import warnings

    import numpy as np

    from .. import plots
    from ..diagnostics import evt
    from ..diagnostics.time_blocks import block_maxima_by_time

    gv = res.get("gev")
    if gv is None or "error" in gv:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if "block" in gv:
            maxima = block_maxima_by_time(y, np.sort(np.asarray(time)), block=gv["block"]).maxima
        else:
            maxima = evt.block_maxima(y, summary.block_size)
    gfit = evt.fit_gev(maxima)
    save("return_level_gev", col, slug, plots.return_level_plot, gfit, data=maxima)
    save("fit_diagnostic_gev", col, slug, plots.fit_diagnostic_plot, gfit, maxima)


def _saver(out: Path, figs: dict, tail: str):
    """``save(kind, col, slug, draw, *args, **kwargs)``: draw a figure, title it, write it, record it in ``figs``.

    A figure that cannot be drawn (ValueError, RuntimeError) is recorded with its reason instead.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    scale = {"upper": "", "lower": " (analysing -x)", "both": " (analysing |x|)"}[tail]

    def save(kind, col, slug, draw, *args, **kwargs):
        fname = f"{slug}_{kind}.png"
        try:
            obj = draw(*args, **kwargs)
        except (ValueError, RuntimeError) as exc:
            figs[col].append((kind, None, str(exc.args[0] if exc.args else exc)))
            plt.close("all")
            return
        axs = np.atleast_1d(obj)
        fig = axs[0].figure
        # the Hill and survival plots orient the data themselves and say so in their titles
        note = "" if kind in ("hill", "survival") else scale
        axs[0].set_title(f"{col}{note}: " + axs[0].get_title())
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        figs[col].append((kind, fname, ""))

    return save


def _tail_figures(res: dict, x, y, summary, save, col: str, slug: str) -> None:
    """Hill, survival, GPD QQ, threshold-choice, return-level and fit-diagnostic figures of one column.

    Parameters
    ----------
    res : dict
        The column's summary (``summary.columns[col]``).
    x, y : ndarray
        The column, raw and oriented (in time order with ``--time``).
    summary : DiagnosticSummary
    save : callable
        From :func:`_saver`.
    col, slug : str
        The column's name and file-name stem.
    """
    from .. import plots
    from ..diagnostics import evt
    from ..diagnostics.tail_index import Estimate

    tail = summary.tail
    h = res["hill"]
    est = None
    if "error" not in h:
        est = Estimate(h["xi"], h["ci_low"], h["ci_high"], h["level"], "hill", h["k"], res["n"],
                       h["threshold"], h["ci_method"], tail, h["k_method"])  # fmt: skip
    save("hill", col, slug, plots.hill_plot, x, tail=tail, k_selected=est)
    gp = res["gpd"]
    fit = evt.fit_gpd(y, gp["threshold"]) if "error" not in gp else None
    u = gp.get("threshold")
    xlabel = {"upper": col, "lower": f"-{col}", "both": f"|{col}|"}[tail] + " (log scale)"
    save("survival", col, slug, plots.survival_plot, x, tail=tail, fit=fit, label=col, xlabel=xlabel)
    if fit is not None:
        save("gpd_qq", col, slug, plots.gpd_qq_plot, y, fit)
    save("mean_residual_life", col, slug, plots.mean_residual_life_plot, y, threshold=u)
    save("parameter_stability", col, slug, plots.parameter_stability_plot, y, threshold=u)
    if fit is not None:
        npp = res["n"] / res["years"] if "years" in res else summary.block_size or None
        save("return_level", col, slug, plots.return_level_plot, fit, data=y, obs_per_block=npp)
        save("fit_diagnostic", col, slug, plots.fit_diagnostic_plot, fit, y, obs_per_block=npp)


def _chi_figures(table, tail: str, out: Path) -> list[tuple[str, str | None, str]]:
    """chi(u) figures of the first :data:`MAX_CHI_PAIRS` column pairs: (kind, file or None, reason) each."""
    import matplotlib.pyplot as plt

    from .. import plots

    items = []
    dep_tail = "lower" if tail == "lower" else "upper"
    pairs = list(combinations(range(len(table.columns)), 2))[:MAX_CHI_PAIRS]
    slugs = {c: _slug(c, set()) for c in table.columns}
    for a, b in pairs:
        ca, cb = table.columns[a], table.columns[b]
        kind = f"chi_{slugs[ca]}_{slugs[cb]}"
        fname = f"{kind}.png"
        try:
            axs = plots.chi_plot(table.values[:, a], table.values[:, b], tail=dep_tail, labels=(ca, cb))
            axs[0].figure.savefig(out / fname, dpi=110)
            plt.close(axs[0].figure)
            items.append((kind, fname, ""))
        except (ValueError, RuntimeError) as exc:
            items.append((kind, None, str(exc)))
            plt.close("all")
    return items


def _write_figures(table, summary, out: Path, time=None) -> dict:
    """Draw every figure; returns column -> list of (kind, file or None, reason)."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from ..diagnostics.tail_index import orient

    tail = summary.tail
    used: set = set()
    figs: dict = {}
    save = _saver(out, figs, tail)
    for j, col in enumerate(table.columns):
        res = summary.columns[col]
        figs[col] = []
        slug = _slug(col, used)
        x = table.values[:, j]
        y = orient(x, tail)
        if time is not None:  # the summary works in time order
            order = np.argsort(np.asarray(time), kind="stable")
            x, y = x[order], y[order]
        if res.get("hill") is not None:  # None: block maxima, GEV figures only
            _tail_figures(res, x, y, summary, save, col, slug)
        _gev_figures(res, y, summary, save, col, slug, time)
    if len(table.columns) >= 2:
        figs["pairs"] = _chi_figures(table, tail, out)
    return figs


def _write_index(summary, figs: dict, out: Path) -> None:
    scale = {"upper": "x", "lower": "-x", "both": "|x|"}[summary.tail]
    lines = [
        f"# Tail diagnostics: {summary.source or 'data'}",
        "",
        (
            f"Upper tail of {scale}; xi > 0 is a heavy tail. Numbers: `summary.csv` (one row per column) and "
            "`summary.json`. 95% intervals: bootstrap for Hill, observed information for the GPD/GEV "
            "parameters, profile likelihood for return levels."
        ),
        "",
        "| column | n | Hill xi [95% CI] (k) | GPD u (exceedances) | GPD xi +- se | GPD scale | q0.99 | q0.999 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for col, r in summary.columns.items():
        if "hill" not in r:  # block maxima: GEV only
            gv = r.get("gev", {})
            gvs = "failed" if "error" in gv else f"GEV xi {_g(gv['shape'], 3)} +- {_g(gv['se_shape'], 2)}"
            lines.append(f"| {col} | {r['n']} | (block maxima: GEV only) | - | {gvs} | - | - | - |")
            continue
        h, g, q = r["hill"], r["gpd"], r["quantiles"]
        hs = (
            "failed"
            if "error" in h
            else f"{_g(h['xi'], 3)} [{_g(h['ci_low'], 3)}, {_g(h['ci_high'], 3)}] ({h['k']})"
        )
        if "error" in g:
            gs = (f"{_g(g.get('threshold'))}", "failed", "-")
        else:
            gs = (
                f"{_g(g['threshold'])} ({g['n_exceedances']})",
                f"{_g(g['shape'], 3)} +- {_g(g['se_shape'], 2)}",
                _g(g["scale"]),
            )
        lines.append(
            f"| {col} | {r['n']} | {hs} | {gs[0]} | {gs[1]} | {gs[2]} | {_g(q['q0.99'])} | {_g(q['q0.999'])} |"
        )
    lines.append("")
    for col, items in figs.items():
        lines += [f"## {col if col != 'pairs' else 'Tail dependence between columns'}", ""]
        for kind, fname, reason in items:
            if fname is None:
                lines += [f"- {kind}: not drawn ({reason})", ""]
                continue
            cap = _CAPTIONS.get(
                kind, "chi(u) and chi-bar(u) of the pair; chi(u) staying above 0 = joint extremes."
            )
            lines += [f"**{fname}**: {cap}", "", f"![{kind}]({fname})", ""]
        for col_res in [summary.columns.get(col)] if col in summary.columns else []:
            errs = [
                f"- {part}: {col_res[part]['error']}"
                for part in ("hill", "gpd", "gev")
                if isinstance(col_res.get(part), dict) and "error" in col_res[part]
            ]
            if errs:
                lines += ["Failed parts:", "", *errs, ""]
    for col, r in summary.columns.items():
        if r.get("warnings"):
            lines += [f"Warnings for {col}:", "", *[f"- {w}" for w in r["warnings"]], ""]
    (out / "index.md").write_text("\n".join(lines), encoding="utf-8")
    (out / "index.html").write_text(_markdown_to_html(lines, summary.source or "data"), encoding="utf-8")


def _markdown_to_html(lines: list[str], title: str) -> str:
    """The few markdown forms _write_index writes (headings, tables, images, bold, lists) as one HTML page."""
    import html

    def inline(t: str) -> str:
        t = html.escape(t, quote=False)
        t = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r'<img alt="\1" src="\2" style="max-width:100%">', t)
        t = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", t)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", t)

    body: list[str] = []
    table: list[list[str]] = []
    in_list = False
    for line in [*lines, ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-", ":"} for c in cells):
                table.append(cells)
            continue
        if table:
            head, *rest = table
            body.append("<table border=1 cellspacing=0 cellpadding=3>")
            body.append("<tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>")
            body += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in rest]
            body.append("</table>")
            table = []
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("## "):
            body.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Tail diagnostics: '
        f'{html.escape(title)}</title></head>\n<body style="font-family:sans-serif;max-width:1000px">\n'
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _load_with_time(args, load_table):
    """The table and, with --time, the time column aligned with its rows (a Series named after it)."""
    import pandas as pd

    if args.time is None:
        return load_table(args.file, columns=args.columns, dropna=args.dropna, **table_options(args)), None
    col = args.time
    columns = args.columns
    if columns is not None:
        wanted = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else list(columns)
        if col in wanted:
            raise ValueError(f"--time {col}: the time column cannot also be analysed; drop it from --columns")
        columns = [*wanted, col]
    table = load_table(
        args.file, columns=columns, dropna=args.dropna, **table_options(args, {col: {"kind": "time"}})
    )
    extra = getattr(table, "extra", None)
    if extra is not None and col in extra:
        return table, pd.Series(extra[col].to_numpy(), name=col)
    # fallback: read the column with pandas (rows must align: no --dropna)
    if args.dropna:
        raise ValueError(f"--time {col} with --dropna needs a loader that keeps the time column")
    try:
        raw = pd.read_csv(args.file, usecols=[col])[col]
    except ValueError:
        raise ValueError(f"--time {col}: no column named {col!r} in {args.file}") from None
    if len(raw) != table.values.shape[0]:
        raise ValueError(f"--time {col}: {len(raw)} rows but the table has {table.values.shape[0]}")
    return table, raw.rename(col)


def run(args: argparse.Namespace) -> int:
    """Load the file, summarise every column, and print / write the results; returns the exit status."""
    from ..data import load_table
    from ..diagnostics.summary import diagnose_table

    if args.block_size is not None and args.block_size < 1:
        raise ValueError(f"--block-size must be a positive integer, got {args.block_size}")
    if args.block is not None and args.time is None:
        raise ValueError("--block needs --time COL (the date or year column that defines the blocks)")
    if args.block is not None and args.block_size is not None:
        raise ValueError("give --block (calendar blocks) or --block-size (rows per block), not both")
    decluster: bool | int = False
    if args.decluster is not None:
        if args.decluster == "auto":
            decluster = True
        else:
            try:
                decluster = int(args.decluster)
            except ValueError:
                decluster = 0
            if decluster < 1:
                raise ValueError(
                    f"--decluster: the run length must be a positive integer, got {args.decluster!r}"
                )
    if args.bayes and args.bayes_samples < 10:
        raise ValueError(f"--bayes-samples must be at least 10, got {args.bayes_samples}")
    table, time = _load_with_time(args, load_table)
    thresholds = parse_thresholds(args.threshold, list(table.columns))
    summary = diagnose_table(
        table,
        threshold=thresholds,
        block_size=args.block_size,
        tail=args.tail,
        seed=args.seed,
        source=str(args.file),
        time=time,
        block=args.block,
        decluster=decluster,
        bayes={"num_samples": args.bayes_samples, "warmup": max(100, args.bayes_samples // 2)}
        if args.bayes
        else False,
    )
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
        summary.to_frame().to_csv(out / "summary.csv")
        (out / "summary.json").write_text(
            json.dumps(to_jsonable(summary.to_dict()), indent=2, allow_nan=False), encoding="utf-8"
        )
        figs = _write_figures(table, summary, out, None if time is None else time.to_numpy())
        _write_index(summary, figs, out)
        n_png = sum(1 for items in figs.values() for _, f, _ in items if f)
        msg = f"wrote summary.csv, summary.json, index.md, index.html and {n_png} figures to {out}"
        print(msg, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print_json(summary.to_dict())
    elif not args.out:
        _print_table(summary)
    return 0
