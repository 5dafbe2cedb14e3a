# Reference numbers for csa_survey's R-parity tests, computed with R's survey package.
#
# Run from the repository root (needs Debian's r-base-core r-cran-survey r-cran-jsonlite):
#     Rscript tests/reference/make_reference.R
# It writes tests/reference/api*.csv (R's bundled `api` data plus derived 0/1 columns)
# and tests/reference/survey_reference.json (designs, calls and R's results). The Python
# tests read those files and never need R.
#
# Conventions matched (see ../shared/API.md):
#  * svymean/svytotal/svyciprop per variable with na.rm=TRUE (csa_survey drops missing
#    values per variable, R per formula: one variable per call makes them agree);
#  * confidence intervals for means/totals: confint(..., df = degf(design));
#  * domains (svyby, subset) use the FULL design's degf for intervals; for
#    svyciprop(method="beta") on a subset R uses degf(subset) internally, so the
#    reference applies R's own beta formula with degf(full) instead (function beta_ci);
#  * deff = TRUE (R's default "not replace" variant); Inf/NaN from R are written as null.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
out_dir <- "tests/reference"
stopifnot(dir.exists(out_dir))
data(api)

add_cols <- function(d) {
  d$y_sw <- as.integer(d$sch.wide == "Yes")
  d$y_aw <- as.integer(d$awards == "Yes")
  d$y_hi <- as.integer(d$api00 > 800)
  d$y_rare <- as.integer(d$api00 > 880)
  d$y_k3 <- ifelse(is.na(d$acs.k3), NA, as.integer(d$acs.k3 > 19))
  d
}
apisrs <- add_cols(apisrs)
apistrat <- add_cols(apistrat)
apistrat$fpc_frac <- ave(rep(1, nrow(apistrat)), apistrat$stype, FUN = sum) / apistrat$fpc
apiclus1 <- add_cols(apiclus1)
apiclus2 <- add_cols(apiclus2)
# a stratified cluster sample with one single-PSU stratum (district 61 alone in "A")
apilonely <- apiclus1
apilonely$str <- ifelse(apilonely$dnum == 61, "A", ifelse(apilonely$dnum < 500, "B", "C"))
# paired strata for BRR: the first 14 districts of apiclus1 in 7 pairs
apibrr <- apiclus1[apiclus1$dnum != 815, ]
ud <- sort(unique(apibrr$dnum))
apibrr$pair <- (match(apibrr$dnum, ud) + 1) %/% 2

mk <- function(spec) {
  d <- get(spec$data)
  f <- function(x) if (is.null(x)) NULL else as.formula(paste0("~", x))
  ids <- if (is.null(spec$psu)) ~1 else f(spec$psu)
  svydesign(ids = ids, strata = f(spec$strata), weights = f(spec$weights),
            fpc = f(spec$fpc), data = d, nest = TRUE)
}

designs <- list(
  srs = list(data = "apisrs", fpc = "fpc"),
  srs_w = list(data = "apisrs", weights = "pw"),
  srs_unw = list(data = "apisrs"),
  strat = list(data = "apistrat", strata = "stype", weights = "pw", fpc = "fpc"),
  strat_frac = list(data = "apistrat", strata = "stype", weights = "pw", fpc = "fpc_frac"),
  strat_nofpc = list(data = "apistrat", strata = "stype", weights = "pw"),
  clus1 = list(data = "apiclus1", psu = "dnum", weights = "pw", fpc = "fpc"),
  clus1_nofpc = list(data = "apiclus1", psu = "dnum", weights = "pw"),
  clus2 = list(data = "apiclus2", psu = "dnum", weights = "pw"),
  lonely_remove = list(data = "apilonely", strata = "str", psu = "dnum", weights = "pw", lonely_psu = "remove"),
  lonely_adjust = list(data = "apilonely", strata = "str", psu = "dnum", weights = "pw", lonely_psu = "adjust"),
  lonely_certainty = list(data = "apilonely", strata = "str", psu = "dnum", weights = "pw", lonely_psu = "certainty")
)

num <- function(x) {
  x <- as.numeric(x)
  lapply(x, function(v) if (is.finite(v)) v else NULL)
}

cases <- list()
add_case <- function(design, fn, variable, rows, by = NULL, ci = NULL, level = 0.95, subset = NULL) {
  cases[[length(cases) + 1]] <<- list(
    design = design, fn = fn, variable = variable, by = by, ci = ci, level = level,
    subset = subset, rows = rows
  )
}

row <- function(estimate, se, lo, hi, deff = NA, level = "", by = NULL) {
  list(by = by, level = level, estimate = num(estimate)[[1]], se = num(se)[[1]],
       ci_low = num(lo)[[1]], ci_high = num(hi)[[1]], deff = num(deff)[[1]])
}

stat_rows <- function(st, df, levels = NULL) {
  ci <- confint(st, df = df)
  cf <- coef(st)
  dd <- tryCatch(deff(st), error = function(e) rep(NA, length(cf)))
  if (is.null(dd)) dd <- rep(NA, length(cf))
  lapply(seq_along(cf), function(i) row(cf[i], SE(st)[i], ci[i, 1], ci[i, 2], dd[i],
                                         level = if (is.null(levels)) "" else levels[i]))
}

by_rows <- function(b, bycols, df) {
  ci <- confint(b, df = df)
  cf <- coef(b)
  se <- SE(b)
  dd <- deff(b)
  lapply(seq_along(cf), function(i) {
    keys <- lapply(bycols, function(k) as.character(b[i, k]))
    names(keys) <- bycols
    row(cf[i], se[i], ci[i, 1], ci[i, 2], dd[i], by = keys)
  })
}

beta_ci <- function(m, nrows, df, level) {
  # R's svyciprop(method = "beta") formula, with the df we use for domains
  alpha <- 1 - level
  p <- coef(m)[1]
  n.eff <- p * (1 - p) / vcov(m)[1, 1]
  n.eff <- n.eff * (qt(alpha / 2, nrows - 1) / qt(alpha / 2, df))^2
  c(qbeta(alpha / 2, n.eff * p, n.eff * (1 - p) + 1), qbeta(1 - alpha / 2, n.eff * p + 1, n.eff * (1 - p)))
}

methods <- c("logit", "likelihood", "asin", "beta", "mean", "xlogit")

run_estimates <- function(name, des, replicate = FALSE) {
  df <- degf(des)
  for (v in c("api00", "enroll", "acs.k3")) {
    add_case(name, "mean", v, stat_rows(svymean(as.formula(paste0("~", v)), des, na.rm = TRUE, deff = TRUE), df))
  }
  for (v in c("enroll", "api00")) {
    add_case(name, "total", v, stat_rows(svytotal(as.formula(paste0("~", v)), des, na.rm = TRUE, deff = TRUE), df))
  }
  for (v in c("stype", "awards")) {
    st <- svymean(as.formula(paste0("~", v)), des, deff = TRUE)
    add_case(name, "proportion_levels", v, stat_rows(st, df, levels = levels(factor(get(designs_data(name))[[v]]))), ci = "mean")
  }
  add_case(name, "mean", "api00", by_rows(svyby(~api00, ~awards, des, svymean, deff = TRUE), "awards", df), by = list("awards"))
  add_case(name, "mean", "api00", by_rows(svyby(~api00, ~stype + awards, des, svymean, deff = TRUE), c("stype", "awards"), df), by = list("stype", "awards"))
  add_case(name, "total", "enroll", by_rows(svyby(~enroll, ~awards, des, svytotal, deff = TRUE, na.rm = TRUE), "awards", df), by = list("awards"))
  for (y in c("y_sw", "y_hi", "y_rare", "y_k3")) {
    for (level in c(0.95, 0.9)) {
      for (m in methods) {
        if (y == "y_k3" && m == "beta") next  # R's beta counts rows with NA in nrow(design)
        f <- as.formula(paste0("~", y))
        r <- tryCatch(suppressWarnings(svyciprop(f, des, method = m, level = level, df = df, na.rm = TRUE)),
                      error = function(e) NULL)
        if (is.null(r)) next
        se <- SE(svymean(f, des, na.rm = TRUE))
        ci <- attr(r, "ci")
        add_case(name, "proportion", y, list(row(coef(r), se, ci[1], ci[2])), ci = m, level = level)
      }
    }
  }
  # a domain: subset(design, awards == "Yes"), intervals on the full design's df
  sub <- subset(des, awards == "Yes")
  for (m in methods) {
    r <- tryCatch(suppressWarnings(svyciprop(~y_sw, sub, method = m, df = df)), error = function(e) NULL)
    if (is.null(r)) next
    mm <- svymean(~y_sw, sub)
    ci <- if (m == "beta") beta_ci(mm, nrow(sub), df, 0.95) else attr(r, "ci")
    add_case(name, "proportion", "y_sw", list(row(coef(r), SE(mm), ci[1], ci[2])), ci = m,
             subset = list(column = "awards", value = "Yes"))
  }
  # a second domain where the proportion is not degenerate: y_hi among middle schools
  sub_m <- subset(des, stype == "M")
  for (m in methods) {
    r <- tryCatch(suppressWarnings(svyciprop(~y_hi, sub_m, method = m, df = df)), error = function(e) NULL)
    if (is.null(r)) next
    mm <- svymean(~y_hi, sub_m)
    ci <- if (m == "beta") beta_ci(mm, nrow(sub_m), df, 0.95) else attr(r, "ci")
    add_case(name, "proportion", "y_hi", list(row(coef(r), SE(mm), ci[1], ci[2])), ci = m,
             subset = list(column = "stype", value = "M"))
  }
  st <- svymean(~api00, sub, deff = TRUE)
  add_case(name, "mean", "api00", stat_rows(st, df), subset = list(column = "awards", value = "Yes"))
  # contrasts: between two variables, and between two domains
  both <- svymean(~api00 + api99, des)
  con <- svycontrast(both, c(1, -1))
  ci <- confint(con, df = df)
  add_case(name, "contrast_vars", "api00-api99", list(row(coef(con), SE(con), ci[1], ci[2])))
  b <- svyby(~api00, ~awards, des, svymean, covmat = TRUE)
  con <- svycontrast(b, c(-1, 1))
  ci <- confint(con, df = df)
  add_case(name, "contrast_by", "api00", list(row(coef(con), SE(con), ci[1], ci[2])), by = list("awards"))
  # the covariance between two variables' means
  v <- vcov(both)
  add_case(name, "cov_vars", "api00,api99", list(row(v[1, 2], NA, NA, NA)))
  df
}

designs_data <- function(name) {
  if (!is.null(designs[[name]])) return(designs[[name]]$data)
  replicate_specs[[name]]$data
}

degfs <- list()
for (name in names(designs)) {
  spec <- designs[[name]]
  options(survey.lonely.psu = if (is.null(spec$lonely_psu)) "fail" else spec$lonely_psu)
  des <- suppressWarnings(mk(spec))
  degfs[[name]] <- run_estimates(name, des)
}
options(survey.lonely.psu = "fail")

# ---- replicate designs
set.seed(20261122)
dclus1 <- mk(designs$clus1)
boot <- as.svrepdesign(mk(designs$clus1_nofpc), type = "bootstrap", replicates = 50)
bw <- matrix(as.numeric(as.matrix(weights(boot, "analysis"))), nrow = nrow(apiclus1))
colnames(bw) <- paste0("bw", seq_len(ncol(bw)))
apirep <- cbind(apiclus1, bw)
jkn <- as.svrepdesign(mk(designs$strat_nofpc), type = "JKn", compress = FALSE)
jw <- matrix(as.numeric(as.matrix(weights(jkn, "analysis"))), nrow = nrow(apistrat))
colnames(jw) <- paste0("jw", seq_len(ncol(jw)))
apistrat_rep <- cbind(apistrat, jw)
brr_des <- svydesign(ids = ~dnum, strata = ~pair, weights = ~pw, data = apibrr, nest = TRUE)
brr <- as.svrepdesign(brr_des, type = "BRR", compress = FALSE)
rw <- matrix(as.numeric(as.matrix(weights(brr, "analysis"))), nrow = nrow(apibrr))
colnames(rw) <- paste0("rw", seq_len(ncol(rw)))
apibrr <- cbind(apibrr, rw)

replicate_specs <- list(
  jk1 = list(base = "clus1", type = "JK1"),
  jk1_nofpc = list(base = "clus1_nofpc", type = "JK1"),
  jkn = list(base = "strat", type = "JKn"),
  jkn_nofpc = list(base = "strat_nofpc", type = "JKn"),
  jkn_lonely_remove = list(base = "lonely_remove", type = "JKn"),
  jkn_lonely_adjust = list(base = "lonely_adjust", type = "JKn"),
  boot_supplied = list(data = "apirep", weights = "pw", repweights = colnames(bw), type = "bootstrap", mse = FALSE),
  boot_supplied_mse = list(data = "apirep", weights = "pw", repweights = colnames(bw), type = "bootstrap", mse = TRUE),
  jkn_supplied = list(data = "apistrat_rep", weights = "pw", repweights = colnames(jw), type = "JKn",
                      rscales = as.numeric(jkn$rscales), mse = FALSE),
  brr_supplied = list(data = "apibrr", weights = "pw", repweights = colnames(rw), type = "BRR", mse = FALSE)
)
for (name in names(replicate_specs)) {
  spec <- replicate_specs[[name]]
  if (!is.null(spec$base)) {
    base <- designs[[spec$base]]
    options(survey.lonely.psu = if (is.null(base$lonely_psu)) "fail" else base$lonely_psu)
    des <- as.svrepdesign(suppressWarnings(mk(base)), type = spec$type)
    replicate_specs[[name]]$data <- base$data
  } else {
    d <- get(spec$data)
    des <- svrepdesign(data = d, repweights = d[, spec$repweights], weights = as.formula(paste0("~", spec$weights)),
                       type = spec$type, rscales = spec$rscales, combined.weights = TRUE, mse = spec$mse)
  }
  degfs[[name]] <- run_estimates(name, des, replicate = TRUE)
  options(survey.lonely.psu = "fail")
}

for (nm in c("apisrs", "apistrat", "apiclus1", "apiclus2", "apilonely", "apirep", "apistrat_rep", "apibrr")) {
  write.csv(get(nm), file.path(out_dir, paste0(nm, ".csv")), row.names = FALSE, na = "")
}
# the design specification in csa_survey's terms
py_designs <- lapply(designs, function(s) list(kind = "taylor", data = paste0(s$data, ".csv"),
  weights = s$weights, strata = s$strata, psu = s$psu, fpc = s$fpc,
  lonely_psu = if (is.null(s$lonely_psu)) "fail" else s$lonely_psu))
for (name in names(replicate_specs)) {
  s <- replicate_specs[[name]]
  py_designs[[name]] <- if (!is.null(s$base)) list(kind = "with_replicates", base = s$base, type = s$type)
    else list(kind = "replicate", data = paste0(s$data, ".csv"), weights = s$weights,
              repweights = s$repweights, type = s$type, rscales = s$rscales, mse = s$mse)
}
out <- list(
  generated_by = "tests/reference/make_reference.R",
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  designs = py_designs,
  degf = degfs,
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE),
           file.path(out_dir, "survey_reference.json"))
cat("wrote", length(cases), "cases\n")
