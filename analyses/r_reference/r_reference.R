# Reference numbers for tests/diagnostics/test_evt.py, computed with R's evd (Stephenson).
# Run from the repository root:  Rscript analyses/r_reference/r_reference.R > analyses/r_reference/r_reference_output.txt
suppressMessages(library(evd))
options(digits = 10)
cat("R", R.version$major, R.version$minor, " evd", as.character(packageVersion("evd")), "\n")
tight <- list(reltol = 1e-14, maxit = 5000)

danish <- read.csv("data/danish_fire_1980_1990.csv")$loss_mdkk
t4 <- read.csv("analyses/r_reference/sim_abs_t4.csv")$x
nrm <- read.csv("analyses/r_reference/sim_normal.csv")$x
gevsim <- read.csv("analyses/r_reference/sim_gev_xi02.csv")$x
fcmax <- read.csv("analyses/r_reference/fort_collins_annual_max.csv")$prec_in

show_pot <- function(label, x, u, ...) {
  f <- fpot(x, u, ...)
  cat(sprintf("FPOT %s u=%.10g nexc=%d scale=%.10g shape=%.10g se_scale=%.10g se_shape=%.10g nllh=%.10g conv=%s\n",
              label, u, f$nhigh, f$estimate["scale"], f$estimate["shape"], f$std.err["scale"], f$std.err["shape"],
              f$deviance / 2, f$convergence))
  invisible(f)
}

cat("\n## GPD fits, evd::fpot default control (BFGS)\n")
for (u in c(5, 10, 20)) show_pot("danish-default", danish, u)
cat("\n## GPD fits, evd::fpot with tight optimiser tolerance (reltol 1e-14)\n")
for (u in c(3, 5, 10, 20)) show_pot("danish", danish, u, control = tight)
for (u in c(1.5, 2.5)) show_pot("abs_t4", t4, u, control = tight)
for (u in c(1.0, 2.0)) show_pot("normal", nrm, u, control = tight)

cat("\n## Danish 100-year return level: npp = 2167/11 observations per year (11 years), mper = 100\n")
npp <- length(danish) / 11
f_def <- tryCatch(fpot(danish, 10, npp = npp, mper = 100), warning = function(w) {
  cat("WARNING from default fpot(mper=100):", conditionMessage(w), "\n")
  suppressWarnings(fpot(danish, 10, npp = npp, mper = 100))
})
cat(sprintf("RL default-start rlevel=%.8g shape=%.8g conv=%s nllh=%.10g\n", f_def$estimate["rlevel"],
            f_def$estimate["shape"], f_def$convergence, f_def$deviance / 2))
f_rl <- fpot(danish, 10, npp = npp, mper = 100, start = list(rlevel = 430, shape = 0.5),
             control = list(reltol = 1e-14, maxit = 5000, parscale = c(100, 0.1)))
cat(sprintf("RL good-start rlevel=%.10g shape=%.10g se_rlevel=%.10g se_shape=%.10g conv=%s nllh=%.10g\n",
            f_rl$estimate["rlevel"], f_rl$estimate["shape"], f_rl$std.err["rlevel"], f_rl$std.err["shape"],
            f_rl$convergence, f_rl$deviance / 2))
pr <- profile(f_rl, which = "rlevel", conf = 0.99, mesh = f_rl$std.err["rlevel"] / 200,
              control = list(maxit = 2000, reltol = 1e-12))
ci <- confint(pr, level = 0.95)
cat(sprintf("RL evd-profile-confint 95%% lower=%.8g upper=%.8g\n", ci[1, 1], ci[1, 2]))

# Independent profile: for fixed return level r, the GPD scale is (r - u) xi / ((m zeta)^xi - 1);
# minimise the nllh over xi (optimize), and solve deviance = qchisq(level, 1) with uniroot.
gpd_nllh <- function(y, scale, shape) {
  if (scale <= 0) return(Inf)
  w <- 1 + shape * y / scale
  if (any(w <= 0)) return(Inf)
  if (abs(shape) < 1e-12) return(length(y) * log(scale) + sum(y) / scale)
  length(y) * log(scale) + (1 + 1 / shape) * sum(log(w))
}
profile_ci_gpd <- function(x, u, m, level, xi_hat, rl_hat, nllh_hat, lo_guess, hi_guess) {
  y <- x[x > u] - u
  zeta <- length(y) / length(x)
  lm <- log(m * zeta)
  prof <- function(r) {
    f <- function(xi) gpd_nllh(y, (r - u) * xi / expm1(xi * lm), xi)
    optimize(f, c(xi_hat - 1.5, xi_hat + 1.5), tol = 1e-12)$objective
  }
  target <- qchisq(level, 1) / 2
  g <- function(r) prof(r) - nllh_hat - target
  lo <- uniroot(g, c(lo_guess, rl_hat), tol = 1e-10)$root
  hi <- uniroot(g, c(rl_hat, hi_guess), tol = 1e-10)$root
  c(lo, hi)
}
f10 <- fpot(danish, 10, control = tight)
m <- 100 * npp
zeta <- f10$nhigh / length(danish)
rl_hat <- 10 + f10$estimate["scale"] / f10$estimate["shape"] * ((m * zeta)^f10$estimate["shape"] - 1)
cat(sprintf("RL mle-from-fit m=%.10g zeta=%.10g rlevel=%.10g\n", m, zeta, rl_hat))
for (lev in c(0.95, 0.90)) {
  ci2 <- profile_ci_gpd(danish, 10, m, lev, f10$estimate["shape"], rl_hat, f10$deviance / 2, 120, 5000)
  cat(sprintf("RL manual-profile level=%.2f lower=%.10g upper=%.10g\n", lev, ci2[1], ci2[2]))
}
# 50-observation-year style: 10-year level for |t4| above 2.5 with npp = 300 (10 years of 300 obs)
ft <- fpot(t4, 2.5, control = tight)
mt <- 10 * 300
zt <- ft$nhigh / length(t4)
rlt <- 2.5 + ft$estimate["scale"] / ft$estimate["shape"] * ((mt * zt)^ft$estimate["shape"] - 1)
cit <- profile_ci_gpd(t4, 2.5, mt, 0.95, ft$estimate["shape"], rlt, ft$deviance / 2, 3, 200)
cat(sprintf("RL abs_t4 u=2.5 m=%g rlevel=%.10g lower=%.10g upper=%.10g\n", mt, rlt, cit[1], cit[2]))
ft2 <- fpot(t4, 2.5, npp = 300, mper = 10, start = list(rlevel = rlt, shape = ft$estimate["shape"]),
            control = list(reltol = 1e-14, maxit = 5000))
cat(sprintf("RL abs_t4 evd-mper rlevel=%.10g se_rlevel=%.10g\n", ft2$estimate["rlevel"], ft2$std.err["rlevel"]))

cat("\n## GEV fits, evd::fgev (shape > 0 heavy)\n")
show_gev <- function(label, x, ...) {
  f <- fgev(x, ...)
  e <- f$estimate; s <- f$std.err
  cat(sprintf("FGEV %s n=%d loc=%.10g scale=%.10g shape=%.10g se_loc=%.10g se_scale=%.10g se_shape=%.10g nllh=%.10g conv=%s\n",
              label, length(x), e["loc"], e["scale"], e["shape"], s["loc"], s["scale"], s["shape"], f$deviance / 2,
              f$convergence))
  invisible(f)
}
show_gev("fortcollins-default", fcmax)
g1 <- show_gev("fortcollins", fcmax, control = tight)
g2 <- show_gev("simgev", gevsim, control = tight)
# block maxima of Danish in blocks of 50 observations (43 full blocks, trailing 17 dropped)
nb <- floor(length(danish) / 50)
dmax <- apply(matrix(danish[1:(nb * 50)], nrow = 50), 2, max)
g3 <- show_gev("danish-block50", dmax, control = tight)

cat("\n## GEV return levels: fgev(prob = 1/T) reparameterisation (quantile with exceedance prob 1/T)\n")
for (T in c(10, 100)) {
  e <- g1$estimate
  zp <- qgev(1 - 1 / T, e["loc"], e["scale"], e["shape"])
  fq <- fgev(fcmax, prob = 1 / T, start = list(quantile = zp, scale = e["scale"], shape = e["shape"]),
             control = tight)
  pq <- profile(fq, which = "quantile", conf = 0.99, mesh = fq$std.err["quantile"] / 200,
                control = list(maxit = 2000, reltol = 1e-12))
  cq <- confint(pq, level = 0.95)
  cat(sprintf("GEVRL fortcollins T=%g quantile=%.10g se=%.10g profile95 lower=%.8g upper=%.8g\n", T,
              fq$estimate["quantile"], fq$std.err["quantile"], cq[1, 1], cq[1, 2]))
}
e <- g2$estimate
zp <- qgev(1 - 1 / 50, e["loc"], e["scale"], e["shape"])
fq <- fgev(gevsim, prob = 1 / 50, start = list(quantile = zp, scale = e["scale"], shape = e["shape"]), control = tight)
pq <- profile(fq, which = "quantile", conf = 0.99, mesh = fq$std.err["quantile"] / 200,
              control = list(maxit = 2000, reltol = 1e-12))
cq <- confint(pq, level = 0.95)
cat(sprintf("GEVRL simgev T=50 quantile=%.10g se=%.10g profile95 lower=%.8g upper=%.8g\n",
            fq$estimate["quantile"], fq$std.err["quantile"], cq[1, 1], cq[1, 2]))
