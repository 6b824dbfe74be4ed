# GEV references on small samples for tests/diagnostics/test_evt.py (evd::fgev, evd profile/confint, and an
# independent profile: Nelder-Mead over (log scale, shape) for each return level + uniroot on the deviance).
# Run from the repository root after make_gev_cases.py:
#   Rscript analyses/r_reference/gev_reference.R > analyses/r_reference/gev_reference_output.txt
suppressMessages(library(evd))
options(digits = 10, warn = 1)
cat("R", R.version$major, R.version$minor, " evd", as.character(packageVersion("evd")), "\n")
tight <- list(reltol = 1e-14, maxit = 5000)
cases <- read.csv("analyses/r_reference/gev_cases.csv")

nll <- function(x, mu, s, xi) {
  if (!is.finite(s) || s <= 0) return(Inf)
  z <- (x - mu) / s
  if (abs(xi) < 1e-9) return(length(x) * log(s) + sum(z) + sum(exp(-z)))
  t <- 1 + xi * z
  if (any(t <= 0)) return(Inf)
  length(x) * log(s) + (1 + 1 / xi) * sum(log(t)) + sum(t^(-1 / xi))
}
em1 <- function(v) if (abs(v) < 1e-12) 1 else expm1(v) / v

# the exact MLE: fgev (tight) polished by Nelder-Mead + BFGS from several starts, best optimum kept
best_fit <- function(x, f) {
  e <- f$estimate
  starts <- list(e, c(e[1], e[2], 0), c(e[1], e[2], e[3] + 0.3), c(e[1], e[2], max(e[3] - 0.3, -0.9)))
  best <- list(value = f$deviance / 2, par = unname(e))
  for (st in starts) {
    g <- function(p) nll(x, p[1], exp(p[2]), p[3])
    p0 <- c(st[1], log(st[2]), st[3])
    if (!is.finite(g(p0))) next
    o <- optim(p0, g, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 20000))
    o <- optim(o$par, g, method = "BFGS", control = list(reltol = 1e-16, maxit = 5000))
    if (o$value < best$value - 1e-10) best <- list(value = o$value, par = c(o$par[1], exp(o$par[2]), o$par[3]))
  }
  best
}

# Profile of the return level r: mu = r - sigma * a(xi), a(xi) = (y_p^-xi - 1)/xi.  For fixed (r, xi) the
# feasible scales form an interval (s_min, Inf); the inner minimum over log(scale) is found by optimize on
# that interval, the outer minimum over xi by a grid followed by optimize around the best grid point.
manual_profile_ci <- function(x, T, mle, nllh_hat, level = 0.95) {
  lp <- -log(-log1p(-1 / T))
  rhat <- mle[1] + mle[2] * lp * em1(mle[3] * lp)
  inner <- function(r, xi) {
    a <- lp * em1(xi * lp)
    smin <- 0
    if (xi > 0 && r > min(x)) smin <- (r - min(x)) * xi * exp(-xi * lp)
    if (xi < 0 && r < max(x)) smin <- (max(x) - r) * (-xi) * exp(-xi * lp)
    g <- function(ls) { s <- exp(ls); nll(x, r - s * a, s, xi) }
    lo <- if (smin > 0) log(smin) + 1e-12 else log(mle[2]) - 20
    hi <- if (smin > 0) log(smin) + 25 else log(mle[2]) + 20
    grid <- seq(lo, hi, length.out = 61)
    v <- sapply(grid, g)
    i <- which.min(v)
    o <- optimize(g, c(grid[max(i - 1, 1)], grid[min(i + 1, 61)]), tol = 1e-13)
    min(o$objective, v[i])
  }
  prof <- function(r) {
    xs <- seq(-0.95, 4, by = 0.05)
    v <- sapply(xs, function(xi) inner(r, xi))
    i <- which.min(v)
    o <- optimize(function(xi) inner(r, xi), c(xs[max(i - 1, 1)], xs[min(i + 1, length(xs))]), tol = 1e-11)
    min(o$objective, v[i])
  }
  crit <- qchisq(level, 1) / 2
  dev <- function(r) prof(r) - nllh_hat - crit
  se <- abs(rhat) * 0.1
  lo <- NA; prev <- rhat
  for (k in 0:40) { r <- rhat - se * 2^(k / 2); if (dev(r) > 0) { lo <- uniroot(dev, c(r, prev), tol = 1e-9 * abs(rhat))$root; break }; prev <- r }
  hi <- Inf; prev <- rhat
  for (k in 0:80) { r <- rhat + se * 2^(k / 2); if (dev(r) > 0) { hi <- uniroot(dev, c(prev, r), tol = 1e-9 * abs(rhat))$root; break }; prev <- r }
  c(rhat, lo, hi, prof(rhat) - nllh_hat)
}

for (case in unique(cases$case)) {
  x <- cases$x[cases$case == case]
  f <- tryCatch(fgev(x, control = tight), error = function(e) {
    cat("EVDFAIL", case, "fgev:", conditionMessage(e), "\n"); fgev(x, control = tight, std.err = FALSE) })
  if (is.null(f$std.err)) f$std.err <- c(NA, NA, NA)
  b <- best_fit(x, f)
  cat(sprintf("FGEV %s n=%d evd_loc=%.10g evd_scale=%.10g evd_shape=%.10g evd_nllh=%.10g conv=%s\n", case, length(x),
              f$estimate[1], f$estimate[2], f$estimate[3], f$deviance / 2, f$convergence))
  cat(sprintf("BEST %s loc=%.10g scale=%.10g shape=%.10g nllh=%.10g se_loc=%.6g se_scale=%.6g se_shape=%.6g\n", case,
              b$par[1], b$par[2], b$par[3], b$value, f$std.err[1], f$std.err[2], f$std.err[3]))
  for (T in c(10, 100)) {
    ci <- tryCatch(manual_profile_ci(x, T, b$par, b$value), error = function(e) c(NA, NA, NA, NA))
    cat(sprintf("MANUALRL %s T=%g value=%.10g lower=%.10g upper=%.10g dev_at_mle=%.3g\n", case, T, ci[1], ci[2], ci[3], ci[4]))
    ev <- tryCatch({
      e <- f$estimate
      zp <- qgev(1 - 1 / T, e[1], e[2], e[3])
      fq <- fgev(x, prob = 1 / T, start = list(quantile = zp, scale = e[[2]], shape = e[[3]]), control = tight)
      pq <- profile(fq, which = "quantile", conf = 0.99, mesh = fq$std.err["quantile"] / 200,
                    control = list(maxit = 2000, reltol = 1e-12))
      cq <- confint(pq, level = 0.95)
      c(fq$estimate["quantile"], cq[1, 1], cq[1, 2])
    }, error = function(e) { cat("EVDFAIL", case, T, conditionMessage(e), "\n"); c(NA, NA, NA) })
    cat(sprintf("EVDRL %s T=%g value=%.10g lower=%.8g upper=%.8g\n", case, T, ev[1], ev[2], ev[3]))
  }
}
