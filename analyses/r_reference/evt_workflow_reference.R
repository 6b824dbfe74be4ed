# References for the EVT workflow tests (tests/diagnostics/test_nonstationary.py, test_declustering.py) and
# analyses/bench_evt_workflow.py.  Run from the repository root after make_evt_workflow_data.py:
#   Rscript analyses/r_reference/evt_workflow_reference.R > analyses/r_reference/evt_workflow_reference_output.txt
suppressMessages(library(evd))
options(digits = 12, warn = 1)
cat("R", R.version$major, R.version$minor, " evd", as.character(packageVersion("evd")), "\n")
tight <- list(reltol = 1e-14, maxit = 20000)
polish <- function(f, p) {  # Nelder-Mead then BFGS, repeated, for an exact optimum
  for (i in 1:3) {
    p <- optim(p, f, method = "Nelder-Mead", control = tight)$par
    p <- optim(p, f, method = "BFGS", control = list(reltol = 1e-15, maxit = 5000))$par
  }
  list(par = p, value = f(p), hess = optimHess(p, f))
}

# 1. Non-stationary GEV: location linear in a covariate, evd::fgev(nsloc=)
d <- read.csv("analyses/r_reference/sim_gev_trend.csv")
for (what in c("sim_gev_trend", "fort_collins_annual_max")) {
  if (what == "sim_gev_trend") { x <- d$x; tt <- data.frame(t = d$t) } else {
    fc <- read.csv("analyses/r_reference/fort_collins_annual_max.csv")
    x <- fc$prec_in; tt <- data.frame(t = fc$year - 1949.5)
  }
  s <- fgev(x, std.err = TRUE)
  ns <- fgev(x, nsloc = tt, std.err = TRUE, control = list(reltol = 1e-14, maxit = 5000))
  cat("\n##", what, "stationary fgev: estimate", s$estimate, " se", s$std.err, " nllh", s$deviance / 2, "\n")
  cat("##", what, "fgev(nsloc = t): estimate", ns$estimate, " se", ns$std.err, " nllh", ns$deviance / 2, "\n")
  cat("##", what, "LR statistic", s$deviance - ns$deviance, " p", pchisq(s$deviance - ns$deviance, 1, lower.tail = FALSE), "\n")
  # the same model and a log-scale trend, by direct optimisation of the GEV likelihood
  nll <- function(p, ls) {
    mu <- p[1] + p[2] * tt$t
    sg <- if (ls) exp(p[3] + p[4] * tt$t) else rep(exp(p[3]), length(x))
    xi <- p[length(p)]
    z <- (x - mu) / sg; w <- 1 + xi * z
    if (any(w <= 0)) return(1e300)
    sum(log(sg)) + (1 + 1 / xi) * sum(log(w)) + sum(w^(-1 / xi))
  }
  e <- ns$estimate
  o1 <- polish(function(p) nll(p, FALSE), c(e[1], e[2], log(e[3]), e[4]))
  cat("##", what, "direct loc trend: par", o1$par, " nllh", o1$value, " se", sqrt(diag(solve(o1$hess))), "\n")
  o2 <- polish(function(p) nll(p, TRUE), c(o1$par[1:3], 0, o1$par[4]))
  cat("##", what, "direct loc + logscale trend: par", o2$par, " nllh", o2$value, " se", sqrt(diag(solve(o2$hess))), "\n")
}

# 2. r-largest GEV on the Venice sea levels (evd's venice: 51 years, 10 largest, 4 missing entries)
data(venice)
rl_nll <- function(p, A) {
  mu <- p[1]; sg <- exp(p[2]); xi <- p[3]; out <- 0
  for (i in seq_len(nrow(A))) {
    z <- sort(A[i, !is.na(A[i, ])], decreasing = TRUE)
    w <- 1 + xi * (z - mu) / sg
    if (any(w <= 0)) return(1e300)
    out <- out + length(z) * log(sg) + (1 + 1 / xi) * sum(log(w)) + w[length(w)]^(-1 / xi)
  }
  out
}
for (r in c(1, 3, 5, 10)) {
  A <- as.matrix(venice[, 1:r, drop = FALSE])
  f1 <- fgev(venice[, 1])$estimate
  o <- polish(function(p) rl_nll(p, A), c(f1[1], log(f1[2]), f1[3]))
  J <- diag(c(1, exp(o$par[2]), 1)); V <- J %*% solve(o$hess) %*% J
  cat("## venice r =", r, ": loc scale shape", o$par[1], exp(o$par[2]), o$par[3], " nllh", o$value,
      " se", sqrt(diag(V)), "\n")
}

# 3. Extremal index and runs declustering: Fort Collins daily precipitation above 0.395 in
fc <- read.csv("data/fort_collins_precip_1900_1999.csv")
p <- fc$prec_in
cat("\n## fort collins u=0.395 exceedances", sum(p > 0.395), " exi intervals (r=0)", exi(p, 0.395, r = 0), "\n")
for (r in c(1, 2, 5)) {
  cl <- clusters(p, 0.395, r = r, cmax = TRUE)
  cat("## fort collins runs r =", r, ": clusters", length(cl), " exi runs", exi(p, 0.395, r = r),
      " sum of peaks", sum(cl), "\n")
  fp <- fpot(cl, 0.395, std.err = TRUE)
  cat("##   fpot on cluster peaks: scale shape", fp$estimate, " se", fp$std.err, " nllh", fp$deviance / 2, "\n")
}
sp <- read.csv("data/sp500_daily_1999_2018.csv")
lr <- -sp$log_return[!is.na(sp$log_return)]
u <- quantile(lr, 0.95, type = 7)
cat("## sp500 losses u = q0.95 =", u, " exceedances", sum(lr > u), " exi intervals", exi(lr, u, r = 0),
    " clusters r=3", length(clusters(lr, u, r = 3, cmax = TRUE)), "\n")
