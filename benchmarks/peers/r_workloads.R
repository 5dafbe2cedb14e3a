# The benchmark workloads in R's survey package, timed inside R.
#
# Usage (the runner calls it; run from anywhere):
#   Rscript benchmarks/peers/r_workloads.R DATA.csv SPEC.json OUT.json
# DATA.csv is written by benchmarks/run.py (same rows as the Python frame, plus `jkgroup`,
# the jackknife group of each row's PSU); SPEC.json holds the workloads to run, the number of
# repeats, the per-run time budget and the raking margins. OUT.json receives, per workload,
# the elapsed times (proc.time, one per run), the peak memory R used during the first run
# (gc "max used", Mb, above what was in use before) and the estimates/SEs compared with
# csa_survey.
#
# Same statistics as csa_survey: svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE)
# (PSUs with replacement), each item on its own non-missing rows (svymean(na.rm=TRUE) item by
# item; svyby for domains), and svrepdesign(type="JK1", combined.weights=TRUE) over the same
# 80 replicate columns, rebuilt here from `jkgroup` with the same arithmetic (w * 80/79).

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
  library(data.table)
})
options(survey.lonely.psu = "fail")

args <- commandArgs(trailingOnly = TRUE)
df <- as.data.frame(fread(args[1]))
spec <- fromJSON(args[2], simplifyVector = FALSE)
out_path <- args[3]

items <- paste0("y", 1:10)
mr_items <- paste0("m", 1:12)
covariates <- paste0("x", 1:8)
n_rep <- 80L

design <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = df, nest = TRUE)

rep_design <- function() {
  rw <- matrix(0, nrow(df), n_rep)
  factor <- n_rep / (n_rep - 1)
  for (r in seq_len(n_rep)) rw[, r] <- ifelse(df$jkgroup == r - 1L, 0, df$w * factor)
  colnames(rw) <- paste0("rw", seq_len(n_rep))
  svrepdesign(data = df[, c("w", "dom", items)], repweights = rw, weights = ~w,
              type = "JK1", scale = (n_rep - 1) / n_rep, combined.weights = TRUE)
}

num <- function(key, est, se) setNames(list(c(unname(est), unname(se))), key)

w1 <- function(des) lapply(items, function(y) svymean(as.formula(paste0("~", y)), des, na.rm = TRUE))
w1_numbers <- function(res, names = items) {
  out <- list()
  for (i in seq_along(res)) out <- c(out, num(names[i], coef(res[[i]]), SE(res[[i]])))
  out
}
w2 <- function(des) lapply(items, function(y)
  svyby(as.formula(paste0("~", y)), ~dom, des, svymean, na.rm = TRUE))
w2_numbers <- function(res) {
  out <- list()
  for (i in seq_along(items)) {
    r <- res[[i]]
    keys <- paste0(items[i], "|dom=", r$dom)
    est <- coef(r)
    se <- SE(r)
    for (j in seq_along(keys)) out <- c(out, num(keys[j], est[j], se[j]))
  }
  out
}
w3 <- function(des) {
  des <- update(des, cell = interaction(r4, c5, sep = ","))
  list(test = svychisq(~r4 + c5, des, statistic = "F"), cells = svymean(~cell, des))
}
w3_numbers <- function(res) {
  out <- list(F = c(unname(res$test$statistic), NA), p = c(unname(res$test$p.value), NA))
  est <- coef(res$cells)
  se <- SE(res$cells)
  lev <- sub("^cell", "", names(est))
  parts <- strsplit(lev, ",")
  for (j in seq_along(est)) {
    key <- paste0("cell|r4=", parts[[j]][1], ",c5=", parts[[j]][2])
    out <- c(out, num(key, est[j], se[j]))
  }
  out
}
w4 <- function(des) svyglm(as.formula(paste("outcome ~", paste(covariates, collapse = " + "))),
                           des, family = quasibinomial())
w4_numbers <- function(res) {
  est <- coef(res)
  se <- SE(res)
  nm <- sub("^\\(Intercept\\)$", "Intercept", names(est))
  out <- list()
  for (j in seq_along(est)) out <- c(out, num(paste0("coef|", nm[j]), est[j], se[j]))
  out
}
w6 <- function(des) {
  m <- svymean(as.formula(paste("~", paste(mr_items, collapse = "+"))), des, na.rm = TRUE)
  pairs <- combn(length(mr_items), 2)
  contr <- lapply(seq_len(ncol(pairs)), function(k) {
    v <- numeric(length(mr_items))
    v[pairs[1, k]] <- 1
    v[pairs[2, k]] <- -1
    v
  })
  names(contr) <- apply(pairs, 2, function(p) paste0(mr_items[p[1]], "-", mr_items[p[2]]))
  list(items = m, diffs = svycontrast(m, contr))
}
w6_numbers <- function(res) {
  out <- list()
  est <- coef(res$items); se <- SE(res$items)
  for (j in seq_along(est)) out <- c(out, num(paste0("item|", names(est)[j]), est[j], se[j]))
  est <- coef(res$diffs); se <- SE(res$diffs)
  for (j in seq_along(est)) out <- c(out, num(paste0("diff|", names(est)[j]), est[j], se[j]))
  out
}
margins <- spec$margins
w7 <- function(des) {
  pop <- lapply(names(margins), function(v) {
    m <- margins[[v]]
    d <- data.frame(as.integer(names(m)), unlist(m))
    names(d) <- c(v, "Freq")
    d
  })
  sample_margins <- lapply(names(margins), function(v) as.formula(paste0("~", v)))
  rake(des, sample_margins, pop, control = list(maxit = 100, epsilon = 1e-10, verbose = FALSE))
}
w7_numbers <- function(raked) {
  out <- w1_numbers(lapply(items[1:3], function(y)
    svymean(as.formula(paste0("~", y)), raked, na.rm = TRUE)), items[1:3])
  c(out, list(`weights|sum_sq` = c(sum(weights(raked)^2), NA)))
}

funs <- list(
  W1 = list(run = w1, numbers = w1_numbers),
  W2 = list(run = w2, numbers = w2_numbers),
  W3 = list(run = w3, numbers = w3_numbers),
  W4 = list(run = w4, numbers = w4_numbers),
  W5 = list(run = w2, numbers = w2_numbers),
  W6 = list(run = w6, numbers = w6_numbers),
  W7 = list(run = w7, numbers = w7_numbers)
)

mem_used <- function() sum(gc()[, 2])  # Mb in use (Ncells + Vcells)
results <- list()
for (wl in unlist(spec$workloads)) {
  des <- if (wl == "W5") rep_design() else design
  base <- mem_used()
  invisible(gc(reset = TRUE))
  times <- c()
  res <- NULL
  peak <- NA
  for (k in seq_len(spec$repeats)) {
    t0 <- proc.time()[["elapsed"]]
    res <- funs[[wl]]$run(des)
    times <- c(times, proc.time()[["elapsed"]] - t0)
    if (k == 1) peak <- sum(gc()[, 6]) - base  # "max used" (Mb) during the first run
    if (times[k] > spec$max_seconds) break  # slow: do not repeat
  }
  message(wl, ": ", paste(round(times, 3), collapse = " "), " s")
  results[[wl]] <- list(times = times, peak_mb = peak, numbers = funs[[wl]]$numbers(res))
  rm(res)
}
write_json(list(r_version = R.version.string,
                survey_version = as.character(packageVersion("survey")),
                workloads = results),
           out_path, digits = NA, auto_unbox = TRUE)
