# Reference numbers for raking, crosstabs/svychisq and svyglm (csa_survey's
# weighting.py, tables.py, regression.py), computed with R's survey package.
#
# Run from the repository root, after tests/reference/make_reference.R (which exports
# R's `api` data as tests/reference/api*.csv):
#     Rscript tests/reference/make_reference_models.R
# It writes tests/reference/models.json. The Python tests (tests/test_weighting.py,
# tests/test_tables.py, tests/test_regression.py) read it and never need R.
#
# Conventions matched:
#  * rake() is run to convergence (maxit = 1000, epsilon = 1e-13 of the weight total):
#    R's default (10 sweeps, epsilon = 1 person) stops early; csa_survey's rake() iterates
#    to tol = 1e-10;
#  * standard errors of raked designs come from svyrecvar's "raking" branch; domains use
#    svyby() and subset() of the raked design (R sets prob = Inf outside the domain);
#  * svychisq(statistic = "F") and "Chisq"; the naive Pearson test is chisq.test() of
#    svytable(..., Ntotal = n) (n = rows of the design), as svychisq computes it;
#  * svyglm(family = quasibinomial()) and gaussian with glm.control(epsilon = 1e-14) so
#    that R's point estimates are converged to the test tolerance; coefficient names are
#    mapped to patsy's in `py_names` (same order as R's).

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
out_dir <- "tests/reference"
stopifnot(file.exists(file.path(out_dir, "apiclus1.csv")))
rd <- function(f) read.csv(file.path(out_dir, f), stringsAsFactors = FALSE)
apiclus1 <- rd("apiclus1.csv")
apiclus2 <- rd("apiclus2.csv")
apistrat <- rd("apistrat.csv")
apisrs <- rd("apisrs.csv")

designs <- list(
  clus1 = list(data = "apiclus1.csv", psu = "dnum", weights = "pw", fpc = "fpc"),
  clus2 = list(data = "apiclus2.csv", psu = "dnum", weights = "pw"),
  strat = list(data = "apistrat.csv", strata = "stype", weights = "pw", fpc = "fpc"),
  strat_nofpc = list(data = "apistrat.csv", strata = "stype", weights = "pw"),
  srs_unw = list(data = "apisrs.csv")
)
mk <- function(name) {
  spec <- designs[[name]]
  d <- switch(spec$data, apiclus1.csv = apiclus1, apiclus2.csv = apiclus2,
              apistrat.csv = apistrat, apisrs.csv = apisrs)
  f <- function(x) if (is.null(x)) NULL else as.formula(paste0("~", x))
  ids <- if (is.null(spec$psu)) ~1 else f(spec$psu)
  svydesign(ids = ids, strata = f(spec$strata), weights = f(spec$weights),
            fpc = f(spec$fpc), data = d, nest = TRUE)
}
num <- function(x) lapply(as.numeric(x), function(v) if (is.finite(v)) v else NULL)

# ------------------------------------------------------------------------- raking
# population totals: the design-weighted totals of the full population frame (apipop)
apienv <- new.env()
data(api, envir = apienv)  # only apipop: the CSVs above carry the derived columns
apipop <- apienv$apipop
pop_of <- function(v) {
  t <- table(apipop[[v]])
  setNames(as.list(as.numeric(t)), names(t))
}
rake_cases <- list(
  list(name = "clus1_stype_schwide", design = "clus1", margins = c("stype", "sch.wide")),
  list(name = "strat_awards_schwide", design = "strat", margins = c("awards", "sch.wide")),
  list(name = "clus2_stype_awards_schwide", design = "clus2",
       margins = c("stype", "awards", "sch.wide"))
)
rake_out <- list()
for (rc in rake_cases) {
  des <- mk(rc$design)
  pops <- lapply(rc$margins, function(v) {
    t <- table(apipop[[v]])
    df <- data.frame(names(t), as.numeric(t))
    names(df) <- c(v, "Freq")
    df
  })
  sm <- lapply(rc$margins, function(v) as.formula(paste0("~", v)))
  r <- rake(des, sm, pops, control = list(maxit = 1000, epsilon = 1e-13))
  est <- list()
  add <- function(fn, variable, by = NULL, subset = NULL, value) {
    est[[length(est) + 1]] <<- list(fn = fn, variable = variable, by = by, subset = subset,
                                    estimate = num(coef(value)), se = num(SE(value)))
  }
  add("mean", "api00", value = svymean(~api00, r))
  add("total", "enroll", value = svytotal(~enroll, r, na.rm = TRUE))
  add("proportion", "y_hi", value = svymean(~y_hi, r))
  add("mean", "y_k3", value = svymean(~y_k3, r, na.rm = TRUE))
  add("proportion", "both", value = svymean(~factor(both), r))
  add("mean", "api00", by = "comp.imp", value = svyby(~api00, ~comp.imp, r, svymean))
  add("total", "enroll", by = "comp.imp", value = svyby(~enroll, ~comp.imp, r, svytotal, na.rm = TRUE))
  add("proportion", "y_hi", by = "stype", value = svyby(~y_hi, ~stype, r, svymean))
  add("mean", "api00", subset = list(column = "comp.imp", value = "Yes"),
      value = svymean(~api00, subset(r, comp.imp == "Yes")))
  add("total", "y_hi", subset = list(column = "yr.rnd", value = "No"),
      value = svytotal(~y_hi, subset(r, yr.rnd == "No")))
  rake_out[[rc$name]] <- list(
    design = rc$design,
    margins = setNames(lapply(rc$margins, pop_of), rc$margins),
    weights = as.numeric(weights(r)),
    degf = degf(r),
    estimates = est
  )
}

# ------------------------------------------------------------------ weight trimming
trim_out <- list()
ds <- mk("strat_nofpc")
for (upper in c(40, 35)) {
  t1 <- trimWeights(ds, upper = upper, strict = FALSE)
  trim_out[[length(trim_out) + 1]] <- list(design = "strat_nofpc", upper = upper,
                                          weights = as.numeric(weights(t1)))
}

# ----------------------------------------------------------------------- svychisq
chisq_cases <- list(
  list(design = "clus1", row = "sch.wide", col = "stype"),
  list(design = "clus1", row = "awards", col = "stype"),
  list(design = "clus1", row = "y_k3", col = "awards"),  # missing values in y_k3
  list(design = "clus2", row = "sch.wide", col = "stype"),
  list(design = "strat", row = "awards", col = "stype"),
  list(design = "strat", row = "sch.wide", col = "awards"),
  list(design = "strat", row = "awards", col = "stype",
       subset = list(column = "comp.imp", value = "Yes")),
  list(design = "strat_nofpc", row = "both", col = "stype"),
  list(design = "srs_unw", row = "awards", col = "stype"),
  list(design = "srs_unw", row = "both", col = "stype"),
  list(design = "clus1", row = "awards", col = "stype", replicate = "JK1"),
  list(design = "clus1", row = "awards", col = "stype", rake = "clus1_stype_schwide"),
  list(design = "clus1", row = "awards", col = "stype", rake = "clus1_stype_schwide",
       subset = list(column = "comp.imp", value = "Yes"))
)
rake_designs <- list()
for (rc in rake_cases) {
  pops <- lapply(rc$margins, function(v) {
    t <- table(apipop[[v]]); df <- data.frame(names(t), as.numeric(t)); names(df) <- c(v, "Freq"); df
  })
  rake_designs[[rc$name]] <- rake(mk(rc$design), lapply(rc$margins, function(v) as.formula(paste0("~", v))),
                                  pops, control = list(maxit = 1000, epsilon = 1e-13))
}
get_design <- function(cc) {
  des <- if (!is.null(cc$rake)) rake_designs[[cc$rake]] else mk(cc$design)
  if (!is.null(cc$replicate)) des <- as.svrepdesign(des, type = cc$replicate)
  if (!is.null(cc$subset)) des <- des[des$variables[[cc$subset$column]] == cc$subset$value, ]
  des
}
chisq_out <- list()
for (cc in chisq_cases) {
  des <- get_design(cc)
  f <- as.formula(paste0("~`", cc$row, "`+`", cc$col, "`"))
  rF <- svychisq(f, des, statistic = "F")
  rC <- svychisq(f, des, statistic = "Chisq")
  # the naive Pearson test, as svychisq builds it (table scaled to the design's rows)
  N <- nrow(des$variables[!is.na(des$variables[[cc$row]]) & !is.na(des$variables[[cc$col]]) &
                            (if (inherits(des, "survey.design2")) is.finite(des$prob) else TRUE), ])
  naive <- suppressWarnings(chisq.test(svytable(f, des, Ntotal = N), correct = FALSE))
  # cell and row proportions (svymean of the cell indicators; svyby over rows)
  mf <- des$variables
  keep <- !is.na(mf[[cc$row]]) & !is.na(mf[[cc$col]])
  cellf <- as.formula(paste0("~interaction(factor(`", cc$row, "`), factor(`", cc$col, "`))"))
  cells <- svymean(cellf, subset(des, keep))
  clev <- sort(unique(mf[[cc$col]][keep]))
  q <- function(v) if (is.character(v)) paste0("'", v, "'") else v
  indf <- as.formula(paste0("~", paste0("as.numeric(`", cc$col, "` == ", sapply(clev, q), ")",
                                        collapse = " + ")))
  rowp <- svyby(indf, as.formula(paste0("~`", cc$row, "`")), subset(des, keep), svymean)
  chisq_out[[length(chisq_out) + 1]] <- c(cc, list(
    F = list(statistic = unname(rF$statistic), ndf = unname(rF$parameter[1]),
             ddf = unname(rF$parameter[2]), p_value = rF$p.value),
    Chisq = list(statistic = unname(rC$statistic), df = unname(rC$parameter[1]),
                 p_value = rC$p.value),
    pearson = list(statistic = unname(naive$statistic), df = unname(naive$parameter),
                   p_value = naive$p.value, N = N),
    cell = list(estimate = num(coef(cells)), se = num(SE(cells))),
    row_prop = list(estimate = num(as.matrix(coef(rowp))), se = num(as.matrix(SE(rowp))))
  ))
}

# ------------------------------------------------------------------------- svyglm
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
glm_cases <- list(
  list(design = "strat", family = "binomial", formula_r = "I(sch.wide == 'Yes') ~ ell + meals + stype",
       formula_py = "y_sw ~ ell + meals + stype",
       py_names = c("Intercept", "ell", "meals", "stype[T.H]", "stype[T.M]")),
  list(design = "clus1", family = "binomial", formula_r = "y_aw ~ ell + meals",
       formula_py = "y_aw ~ ell + meals", py_names = c("Intercept", "ell", "meals")),
  list(design = "clus1", family = "gaussian", formula_r = "api00 ~ ell + acs.k3",
       formula_py = "api00 ~ ell + Q('acs.k3')", py_names = c("Intercept", "ell", "Q('acs.k3')")),
  list(design = "clus1", family = "gaussian", formula_r = "api00 ~ ell + meals",
       formula_py = "api00 ~ ell + meals", py_names = c("Intercept", "ell", "meals"),
       subset = list(column = "stype", value = "E")),
  list(design = "strat", family = "binomial", formula_r = "y_aw ~ meals + api99",
       formula_py = "y_aw ~ meals + api99", py_names = c("Intercept", "meals", "api99"),
       subset = list(column = "comp.imp", value = "Yes")),
  list(design = "clus2", family = "binomial", formula_r = "y_sw ~ ell + stype",
       formula_py = "y_sw ~ ell + stype", py_names = c("Intercept", "ell", "stype[T.H]", "stype[T.M]")),
  list(design = "strat_nofpc", family = "gaussian", formula_r = "api00 ~ ell + avg.ed",
       formula_py = "api00 ~ ell + Q('avg.ed')", py_names = c("Intercept", "ell", "Q('avg.ed')")),
  list(design = "clus1", family = "binomial", formula_r = "y_sw ~ ell", formula_py = "y_sw ~ ell",
       py_names = c("Intercept", "ell"), replicate = "JK1"),
  list(design = "strat", family = "gaussian", formula_r = "api00 ~ ell + meals",
       formula_py = "api00 ~ ell + meals", py_names = c("Intercept", "ell", "meals"), replicate = "JKn"),
  list(design = "clus1", family = "gaussian", formula_r = "api00 ~ ell", formula_py = "api00 ~ ell",
       py_names = c("Intercept", "ell"), rake = "clus1_stype_schwide"),
  list(design = "clus1", family = "binomial", formula_r = "y_hi ~ meals", formula_py = "y_hi ~ meals",
       py_names = c("Intercept", "meals"), rake = "clus1_stype_schwide",
       subset = list(column = "comp.imp", value = "Yes"))
)
glm_out <- list()
for (gc in glm_cases) {
  des <- get_design(gc)
  fam <- if (gc$family == "binomial") quasibinomial() else gaussian()
  m0 <- svyglm(as.formula(gc$formula_r), design = des, family = fam, control = ctl)
  # refit from the converged estimates so that R's working weights (taken one IRLS step
  # before the end) are those of the MLE itself, as csa_survey's sandwich uses
  m <- svyglm(as.formula(gc$formula_r), design = des, family = fam, control = ctl,
              start = coef(m0))
  ci <- confint(m)
  glm_out[[length(glm_out) + 1]] <- c(gc, list(
    names_r = names(coef(m)),
    params = num(coef(m)), bse = num(SE(m)),
    pvalues = num(summary(m)$coefficients[, 4]),
    ci_low = num(ci[, 1]), ci_high = num(ci[, 2]),
    df_resid = m$df.residual, nobs = length(m$y)
  ))
}

out <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  designs = designs,
  rake = rake_out,
  trim = trim_out,
  chisq = chisq_out,
  glm = glm_out
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE),
           file.path(out_dir, "models.json"))
cat("wrote", file.path(out_dir, "models.json"), "\n")
