"""Where does the truncated method's tail error enter? (issue 17, phase 1: diagnosis).

For each case (``ht10d`` and the 5-D multivariate t, df 2.5, rho 0.5; 10,000 training rows drawn with
``seed``, the package-default ``make_model("truncated", seed=seed)``, one torch thread), this script
measures, in the model's preprocessed space Z (robust scaling, an affine map per column):

a. per-column tail quantiles (q0.001/0.01/0.99/0.999) of the prior draw at sigma_T against the truth
   noised at sigma_T (true draws + sigma_T eps in Z), and of the output after the reverse sampler (Heun,
   10 levels, 19 NFE) against the clean truth; the same for the oracle start (true draws + sigma_T eps)
   through the same network, and for both starts through the EXACT denoiser E[x0 | x_sigma] of the known
   law (self-normalised importance sampling with proposal N(x_sigma, sigma^2 I) and weights p(x), exact
   up to Monte-Carlo noise of order sigma / sqrt(K)): this separates the prior's error from the network's.
b. how far the sampler moves points, by bins of |x_T,j| (quantile bins of the prior draw's magnitude up to
   the 0.999): mean signed radial displacement sign(x_T) (x_0 - x_T), network vs exact denoiser.
c. the network's error against the exact posterior mean at sigma in {0.05, 0.2, sigma_T}, on noised true
   points, split by the clean point's magnitude (bulk: max_j |z_j| below its 0.9 quantile; tail: above
   the 0.99 quantile), relative to the size of the exact correction |E[x0|y] - y|.
d. ablations (each costs one denoiser fit): sigma_T halved / doubled, 1000 training steps, width 128 (the
   default is 32; 512 would cost about 16x the default fit), no EMA (decay 0), scored on (a)'s quantile errors.

Fitted models are cached in ``--cache`` (the package's safe model folders), with the CPU seconds of the
fit, so a rerun only re-scores. Everything is seeded; prints Markdown.

Usage::

    OMP_NUM_THREADS=1 python analyses/diagnose_method_tails.py > analyses/results/method_tails_diagnosis.md
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import special

from heavytail_diffusion.benchmarks import get_benchmark
from heavytail_diffusion.diffusion import sample as reverse_sample
from heavytail_diffusion.diffusion import train_denoiser
from heavytail_diffusion.diffusion.samplers import heun_sampler, karras_sigmas
from heavytail_diffusion.models import load_model, make_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_method import Context  # the committed study's reference draws and exact quantiles
from bench_method import cpu_seconds as _cpu

__all__ = ["CASES", "ExactDenoiser", "fit_cached", "main"]

CASES = {
    "ht10d": ("ht10d", {}),
    "mvt5": ("mvt", {"dim": 5, "df": 2.5, "rho": 0.5}),
}
N_TRAIN = 10_000
CACHE = Path("/tmp/method_tails_cache")



class ExactDenoiser:
    """E[x0 | y] for the mixture sum_k w_k t_nu(mu_k, Sigma_k) seen through z = (x - loc) / scale.

    Each t component is a Gaussian scale mixture (x | g ~ N(mu, Sigma / g), g ~ Gamma(nu/2, rate nu/2)), so
    E[x0 | y] = sum_{k,g} W_kg m_kg / sum W_kg with W_kg = w_k pi(g) N(y; mu_k, Sigma_k/g + s^2 I) and
    m_kg = mu_k + (Sigma_k/g)(Sigma_k/g + s^2 I)^{-1} (y - mu_k); the integral over g is a trapezoid rule
    on a log grid (n_g nodes from 1e-9 to 40), computed in each component's eigenbasis.
    """

    def __init__(self, bench, loc, scale, n_g: int = 160):
        sc = np.asarray(scale, float)
        self.mu = (bench.locs - loc) / sc
        trils = bench.scale_trils / sc[None, :, None]
        S = trils @ np.transpose(trils, (0, 2, 1))
        lam, U = np.linalg.eigh(S)
        self.lam, self.U = np.maximum(lam, 1e-300), U
        self.logw = np.log(bench.weights)
        nu = bench.df
        lg = np.linspace(np.log(1e-9), np.log(40.0), n_g)
        g = np.exp(lg)
        if np.isinf(nu):
            raise ValueError("Gaussian mixture: not needed here")
        a = nu / 2
        logpi = a * np.log(a) - special.gammaln(a) + (a - 1) * np.log(g) - a * g  # Gamma(a, rate a) pdf
        self.g = g
        self.logq = logpi + lg + np.log(np.gradient(lg))  # pi(g) dg = pi(g) g dlog g

    def __call__(self, y: np.ndarray, s: float, chunk: int = 1024) -> np.ndarray:
        y = np.asarray(y, float)
        out = np.empty_like(y)
        for i in range(0, len(y), chunk):
            out[i:i + chunk] = self._block(y[i:i + chunk], float(s))
        return out

    def _block(self, y, s):
        K, _d = self.mu.shape
        logS, V = [], []
        for k in range(K):
            r = (y - self.mu[k]) @ self.U[k]  # (n, d) eigen-coordinates
            a = self.lam[k][None, :] / self.g[:, None]  # (G, d) prior variances Sigma/g
            v = a + s * s
            logN = -0.5 * ((r[:, None, :] ** 2 / v[None]).sum(-1) + np.log(v).sum(-1)[None])  # (n, G)
            lw = logN + self.logq[None] + self.logw[k]
            M = lw.max(axis=1, keepdims=True)
            e = np.exp(lw - M)
            shrink = (e[:, :, None] * (a / v)[None]).sum(1)  # (n, d): sum_g e_g a/v
            Sk = e.sum(1)
            Vk = self.mu[k][None] * Sk[:, None] + (shrink * r) @ self.U[k].T
            logS.append(np.log(Sk) + M[:, 0])
            V.append((Vk / Sk[:, None], np.log(Sk) + M[:, 0]))
        L = np.stack(logS)  # (K, n)
        Lm = L.max(0)
        wk = np.exp(L - Lm)
        wk /= wk.sum(0)
        return sum(wk[k][:, None] * V[k][0] for k in range(K))


def fit_cached(case: str, seed: int, tag: str = "default", cache: Path = CACHE, **params):
    """The fitted ``truncated`` model of ``case`` (training rows drawn with ``seed``), from the cache if there.

    Parameters
    ----------
    case : str
        Key of :data:`CASES`.
    seed : int
        Seeds the training rows and the model.
    tag : str
        Cache key of the parameter set.
    cache : Path
        Folder of the cached model folders.
    **params
        Extra ``make_model("truncated", ...)`` parameters.

    Returns
    -------
    model, info : the fitted model and a dict with ``fit_cpu_s``, ``fit_wall_s``, ``sigma_T``,
        ``sigma_T_dip``, ``refits`` (sigma_T doublings of the copy check), ``copy_fraction``, ``train_steps_done``.
    """
    name, bparams = CASES[case]
    folder = cache / f"{case}_s{seed}_{tag}"
    meta = folder / "diag_info.json"
    if meta.exists():
        return load_model(folder), json.loads(meta.read_text())
    X = get_benchmark(name, **bparams).sample(N_TRAIN, seed=seed)
    c0, t0 = _cpu(), time.perf_counter()
    params.setdefault("tail_calibration", False)  # the method as it was (phase 1 diagnoses it)
    m = make_model("truncated", seed=seed, progress=False, **params).fit(X)
    info = {"fit_cpu_s": _cpu() - c0, "fit_wall_s": time.perf_counter() - t0, "sigma_T": float(m.sigma_T_)}
    sel = getattr(m, "sigma_T_selection_", None)
    base = max(float(sel.sigma_T), float(m.min_sigma_T)) if sel is not None else float(m.sigma_T_)
    info["sigma_T_dip"] = float(sel.sigma_T) if sel is not None else float("nan")
    info["refits"] = round(np.log2(m.sigma_T_ / base))
    info["copy_fraction"] = float(m.copy_fraction_) if m.copy_fraction_ is not None else float("nan")
    info["train_steps_done"] = int(m.history_["step"].max())
    info["val_loss"] = float(m.history_["val_loss"].min())
    info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    m.save(folder)
    meta.write_text(json.dumps(info))
    return m, info


LEVELS = (0.001, 0.01, 0.99, 0.999)
N_GEN = 30_000


def net_ode(m, x_T, sigma_T):
    """The model's own reverse sampler (Heun, m.steps levels, rho m.rho) from ``x_T`` with its network."""
    return reverse_sample(m.denoiser_, x_T, sigma_T, steps=m.steps, rho=m.rho, device="cpu")[0]


def exact_ode(exact, x_T, sigma_T, steps=10, rho=7.0):
    """The same Heun grid with the exact posterior mean as denoiser (float64)."""
    fn = lambda x, s: torch.from_numpy(exact(x.numpy(), float(s)))
    return heun_sampler(fn, torch.from_numpy(np.asarray(x_T, float)), karras_sigmas(steps, sigma_T, rho=rho)).numpy()


def tail_errors(G, q_true):
    """Signed relative errors (positive: more extreme than the truth) at LEVELS, shape (len(LEVELS), d)."""
    q = np.quantile(G, LEVELS, axis=0)
    return (q - q_true) / np.abs(q_true) * np.sign(q_true)


def _summ(err):
    """med / max |err| over columns and both tails at 0.999 and 0.99, and mean signed err at 0.999."""
    e999, e99 = np.abs(err[[0, 3]]).ravel(), np.abs(err[[1, 2]]).ravel()
    return {"med999": np.median(e999), "max999": e999.max(), "med99": np.median(e99), "max99": e99.max(),
            "signed999": err[[0, 3]].mean()}  # fmt: skip


def _md(rows, cols, fmt="{:.3f}"):
    out = ["| " + " | ".join(["row"] + cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for name, r in rows:
        out.append("| " + " | ".join([name] + [fmt.format(r[c]) if isinstance(r[c], float | np.floating)
                                                else str(r[c]) for c in cols]) + " |")  # fmt: skip
    return "\n".join(out)


class Case:
    """One case: the bench, its training rows, the default model, the 1e6-draw reference in raw and Z space."""

    def __init__(self, case: str, seed: int):
        name, bparams = CASES[case]
        self.name, self.seed = case, seed
        self.bench = get_benchmark(name, **bparams)
        self.X = self.bench.sample(N_TRAIN, seed=seed)
        self.m, self.info = fit_cached(case, seed)
        self.ctx = Context(self.bench, self.X, N_GEN, 1_000_000, seed)
        pre = self.m.preprocessor_
        self.pre = pre
        self.exact = ExactDenoiser(self.bench, pre.loc_, pre.scale_)
        self.ZR = pre.transform(self.ctx.R)
        self.q_clean = self.bench.marginal_quantile(np.asarray(LEVELS)).reshape(len(LEVELS), -1)
        self.rng = np.random.default_rng([seed, 17])

    def raw(self, Z):
        return self.pre.inverse_transform(Z)

    def oracle_start(self, n, s):
        Z = self.pre.transform(self.bench.sample(n, seed=int(self.rng.integers(2**31))))
        return Z + s * self.rng.standard_normal(Z.shape)

    def noised_truth_q(self, s):
        Zn = self.ZR + s * np.random.default_rng([self.seed, 23]).standard_normal(self.ZR.shape)
        return np.quantile(self.raw(Zn), LEVELS, axis=0)


def part_a(c: Case, out: list) -> dict:
    """Prior draw vs noised truth, sampler output vs clean truth, network vs exact denoiser."""
    m, s = c.m, c.m.sigma_T_
    t = time.perf_counter()
    xT = m.prior_.sample(N_GEN, seed=c.seed)
    xO = c.oracle_start(N_GEN, s)
    runs = {"net_prior": net_ode(m, xT, s), "net_oracle": net_ode(m, xO, s)}
    t_net = time.perf_counter() - t
    saved = CACHE / f"{c.name}_s{c.seed}_exact_odes.npz"  # the exact-denoiser ODEs cost minutes; same starts
    if saved.exists() and np.array_equal(np.load(saved)["xT"], xT):
        z = np.load(saved)
        runs["exact_prior"], runs["exact_oracle"], t_exact = z["exact_prior"], z["exact_oracle"], float(z["t"])
    else:
        runs["exact_prior"] = exact_ode(c.exact, xT, s, m.steps, m.rho)
        runs["exact_oracle"] = exact_ode(c.exact, xO, s, m.steps, m.rho)
        t_exact = time.perf_counter() - t - t_net
        np.savez(saved, xT=xT, exact_prior=runs["exact_prior"], exact_oracle=runs["exact_oracle"], t=t_exact)
    qn = c.noised_truth_q(s)
    rows = [("prior draw at sigma_T vs noised truth", tail_errors(c.raw(xT), qn)),
            ("oracle start at sigma_T vs noised truth", tail_errors(c.raw(xO), qn)),
            ("prior clean draw (sample_clean) vs truth", tail_errors(c.raw(m.prior_.sample_clean(N_GEN, seed=c.seed)), c.q_clean)),
            ("prior draw -> network ODE (the method)", tail_errors(c.raw(runs["net_prior"]), c.q_clean)),
            ("prior draw -> exact-denoiser ODE", tail_errors(c.raw(runs["exact_prior"]), c.q_clean)),
            ("oracle start -> network ODE", tail_errors(c.raw(runs["net_oracle"]), c.q_clean)),
            ("oracle start -> exact-denoiser ODE", tail_errors(c.raw(runs["exact_oracle"]), c.q_clean)),
            ("training rows (10,000)", tail_errors(c.X, c.q_clean)),
            (f"fresh true draws ({N_GEN})", tail_errors(c.bench.sample(N_GEN, seed=31_000 + c.seed), c.q_clean))]  # fmt: skip
    out += [f"### (a) tail quantile errors, {c.name} (sigma_T = {s:.3g}; {N_GEN} rows; raw scale)", "",
            ("Relative errors of the marginal quantiles at 0.001/0.999 (med999, max999: median and max of |err| over "
            "the columns and both tails) and 0.01/0.99 (med99, max99); signed999: mean signed error at the two "
            "extreme levels (positive: more extreme than the truth). Prior draws at sigma_T are compared with the "
            "truth noised at sigma_T (1e6 true draws + sigma_T eps in the model's space), outputs with the exact "
            "clean quantiles."), "",
            _md([(n, _summ(e)) for n, e in rows], ["med999", "max999", "med99", "max99", "signed999"]), ""]  # fmt: skip
    d = c.X.shape[1]
    cols = [f"{lv}:{j}" for lv in ("q.001", "q.999") for j in range(d)]
    per = []
    for n, e in rows[:7]:
        per.append((n, dict(zip(cols, np.concatenate([e[0], e[3]]), strict=True))))
    out += ["Per column, signed errors at q0.001 (columns 0..d-1) and q0.999:", "",
            _md(per, cols, "{:+.2f}"), "", f"(network ODEs {t_net:.0f} s, exact-denoiser ODEs {t_exact:.0f} s)", ""]
    return {"xT": xT, "xO": xO, **runs}


def part_b(c: Case, r: dict, out: list) -> None:
    """Radial displacement sign(x_T) (x_0 - x_T) by bins of |x_T,j|, network vs exact denoiser."""
    edges = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0)
    rows = []
    for start in ("prior", "oracle"):
        xT = r["xT" if start == "prior" else "xO"]
        a = np.abs(xT)
        qs = np.quantile(a, edges, axis=0)
        for lo, hi, qlo, qhi in zip(edges[:-1], edges[1:], qs[:-1], qs[1:], strict=True):
            mask = (a >= qlo) & (a <= qhi)
            sg = np.sign(xT)
            dn = (sg * (r[f"net_{start}"] - xT))[mask]
            de = (sg * (r[f"exact_{start}"] - xT))[mask]
            rows.append((f"{start} start, |x_T| quantile {lo}-{hi}", {
                "mean |x_T|": float(a[mask].mean()), "net disp": float(dn.mean()), "exact disp": float(de.mean()),
                "net - exact": float((dn - de).mean()), "rms(net - exact)": float(np.sqrt(((dn - de) ** 2).mean()))}))  # fmt: skip
    out += [f"### (b) how far the sampler moves points, {c.name} (model space; per coordinate, pooled over columns)",
            "", ("Mean radial displacement sign(x_T,j) (x_0,j - x_T,j) (negative: pulled inwards) from the same start "
            "through the network ODE and the exact-denoiser ODE; bins of |x_T,j| by its quantiles per column."), "",
            _md(rows, ["mean |x_T|", "net disp", "exact disp", "net - exact", "rms(net - exact)"]), ""]  # fmt: skip


def part_c(c: Case, r: dict, out: list) -> None:
    """The network's error against the exact posterior mean, tail vs bulk, at several sigma."""
    m = c.m
    rows = []
    z0 = c.ZR[-20_000:]
    rng = np.random.default_rng([c.seed, 29])
    for s in (0.05, 0.2, float(m.sigma_T_)):
        for src in ("true", "prior"):
            if src == "prior" and s != float(m.sigma_T_):
                continue
            y = z0 + s * rng.standard_normal(z0.shape) if src == "true" else r["xT"][:20_000]
            with torch.no_grad():
                Dn = m.denoiser_(torch.as_tensor(y, dtype=torch.float32), s).double().numpy()
            De = c.exact(y, s)
            big = np.abs(y).max(axis=1)
            qs = np.quantile(big, [0.9, 0.99])
            for label, mask in (("bulk (max|y| < q0.9)", big < qs[0]), ("q0.9-0.99", (big >= qs[0]) & (big < qs[1])),
                                ("tail (max|y| > q0.99)", big >= qs[1])):  # fmt: skip
                err = np.sqrt(((Dn - De)[mask] ** 2).sum(1).mean())
                corr = np.sqrt(((De - y)[mask] ** 2).sum(1).mean())
                j = np.argmax(np.abs(y[mask]), axis=1)
                sg = np.sign(y[mask][np.arange(mask.sum()), j])
                rad = sg * (Dn - De)[mask][np.arange(mask.sum()), j]
                rows.append((f"sigma {s:.3g}, {src} y, {label}", {
                    "rms |D - E|": float(err), "rms |E - y|": float(corr), "ratio": float(err / corr),
                    "radial bias (largest coord)": float(rad.mean())}))  # fmt: skip
    out += [f"### (c) network error vs the exact posterior mean, {c.name} (model space)", "",
            ("y = true point + sigma eps (true y) or the prior's draws at sigma_T (prior y); D the network, E the exact "
            "E[x0 | y]; ratio = rms|D - E| / rms|E - y| (the error relative to the correction it must make); radial "
            "bias: mean of sign(y_j)(D_j - E_j) on each row's largest coordinate (negative: the network pulls "
            "extreme points further in than it should)."), "",
            _md(rows, ["rms |D - E|", "rms |E - y|", "ratio", "radial bias (largest coord)"]), ""]  # fmt: skip


ABLATIONS = {  # tag -> make_model parameters (ema0: the default model's network retrained without EMA)
    "sigma_T x0.5": "half", "sigma_T x2": "double", "train_steps 1000": {"train_steps": 1000},
    "width 128 (default 32)": {"width": 128}, "no EMA": "ema0",
}


def _variant(c: Case, label: str):
    spec = ABLATIONS[label]
    s0 = float(c.m.sigma_T_)
    if spec in ("half", "double"):
        s = s0 * (0.5 if spec == "half" else 2.0)
        return fit_cached(c.name, c.seed, tag=f"sigma{s:g}", sigma_T=s)
    if spec == "ema0":
        folder = CACHE / f"{c.name}_s{c.seed}_ema0"
        m = load_model(CACHE / f"{c.name}_s{c.seed}_default")
        meta = folder / "diag_info.json"
        if meta.exists():
            return load_model(folder), json.loads(meta.read_text())
        Z = m.preprocessor_.transform(c.X)
        c0 = _cpu()
        m.denoiser_, m.history_ = train_denoiser(Z, s0, steps=4000, lr=m.lr, batch_size=m.batch_size,
                                                 patience=m.patience, ema_decay=0.0, seed=c.seed, progress=False)  # fmt: skip
        info = {"fit_cpu_s": _cpu() - c0, "sigma_T": s0, "train_steps_done": int(m.history_["step"].max()),
                "val_loss": float(m.history_["val_loss"].min())}
        m.save(folder)
        meta.write_text(json.dumps(info))
        return m, info
    tag = "_".join(f"{k}{v}" for k, v in spec.items())
    return fit_cached(c.name, c.seed, tag=tag, **spec)


def part_d(c: Case, out: list, labels) -> None:
    rows = []
    for label in ["default"] + list(labels):
        m, info = (c.m, c.info) if label == "default" else _variant(c, label)
        s = float(m.sigma_T_)
        xT = m.prior_.sample(N_GEN, seed=c.seed)
        ep = _summ(tail_errors(c.raw(net_ode(m, xT, s)), c.q_clean))
        eo = _summ(tail_errors(c.raw(net_ode(m, c.oracle_start(N_GEN, s), s)), c.q_clean))
        rows.append((label, {"sigma_T": s, "fit CPU s": float(info["fit_cpu_s"]), "steps": info["train_steps_done"],
                             "val loss": float(info.get("val_loss", np.nan)),
                             "method med999": ep["med999"], "method max999": ep["max999"],
                             "method signed999": ep["signed999"], "oracle med999": eo["med999"],
                             "oracle max999": eo["max999"]}))  # fmt: skip
        print(f"  ablation {c.name} {label}: {rows[-1][1]}", file=sys.stderr, flush=True)
    out += [f"### (d) ablations, {c.name} ({N_GEN} rows; q0.001/q0.999 errors, raw scale; same seed)", "",
            _md(rows, ["sigma_T", "fit CPU s", "steps", "val loss", "method med999", "method max999",
                       "method signed999", "oracle med999", "oracle max999"]), ""]  # fmt: skip


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=list(CASES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fit-only", action="store_true")
    p.add_argument("--ablations", nargs="*", default=list(ABLATIONS))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    out = [f"# Where the method's tail error enters (issue 17, phase 1), seed {a.seed}", ""]
    c_start = _cpu()
    for case in a.cases:
        if a.fit_only:
            print(case, fit_cached(case, a.seed)[1], flush=True)
            continue
        c = Case(case, a.seed)
        i = c.info
        out += [f"## {case}", "", (f"Default fit (`make_model('truncated', seed={a.seed})`, {N_TRAIN} rows, 1 torch "
                f"thread): {i['fit_cpu_s']:.1f} CPU-s ({i['fit_wall_s']:.1f} s wall), sigma_T {i['sigma_T']:.3g} "
                f"(dip test {i['sigma_T_dip']:.3g}), copy-check refits {i['refits']}, copy fraction "
                f"{i['copy_fraction']:.3f}, {i['train_steps_done']} training steps, peak RSS {i['peak_rss_mb']:.0f} MB."), ""]  # fmt: skip
        r = part_a(c, out)
        part_b(c, r, out)
        part_c(c, r, out)
        print("\n".join(out), file=sys.stderr, flush=True)
        if a.ablations:
            part_d(c, out, a.ablations)
    out += [f"(CPU time of this run: {_cpu() - c_start:.0f} s)"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
