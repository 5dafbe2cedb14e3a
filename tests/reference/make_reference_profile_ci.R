# Reference values for csa_survey._profile_ci.likelihood_ci, computed with R's survey.
#
#   Rscript tests/reference/make_reference_profile_ci.R      (run from the repository root)
#
# Writes tests/reference/profile_ci/{apisrs,apistrat,apiclus1,apiclus2}.csv (our own copies
# of survey's api data, kept apart from the main reference script's copies) and
# tests/reference/profile_ci.json with, per case: the design, domain, outcome definition,
# level, the inputs of likelihood_ci (var_logit = vcov of the svyglm intercept,
# df = degf(design); y and w are rebuilt from the CSVs) and R's
# svyciprop(method = "likelihood") interval, plus intermediate quantities (IRLS intercept,
# naive.cov, dispersion, alpha, profile grid) for diagnosing mismatches.
suppressPackageStartupMessages(library(survey))

out_dir <- file.path("tests", "reference", "profile_ci")
json_path <- file.path("tests", "reference", "profile_ci.json")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

data(api)
datasets <- list(apisrs = apisrs, apistrat = apistrat, apiclus1 = apiclus1, apiclus2 = apiclus2)
for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path(out_dir, paste0(nm, ".csv")), row.names = FALSE)
}

designs <- list(
  srs_fpc = list(data = "apisrs", call = "svydesign(id = ~1, fpc = ~fpc, data = apisrs)",
                 des = svydesign(id = ~1, fpc = ~fpc, data = apisrs)),
  srs_nofpc = list(data = "apisrs", call = "svydesign(id = ~1, weights = ~pw, data = apisrs)",
                   des = svydesign(id = ~1, weights = ~pw, data = apisrs)),
  strat = list(data = "apistrat",
               call = "svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)",
               des = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)),
  clus1 = list(data = "apiclus1",
               call = "svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)",
               des = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)),
  clus2 = list(data = "apiclus2",
               call = "svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)",
               des = svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2))
)

# Outcomes: column, operator, value (the Python test evaluates the same comparison).
outcomes <- list(
  sch_wide = list(column = "sch.wide", op = "==", value = "Yes"),
  comp_imp = list(column = "comp.imp", op = "==", value = "Yes"),
  awards = list(column = "awards", op = "==", value = "Yes"),
  stype_H = list(column = "stype", op = "==", value = "H"),
  api00_gt800 = list(column = "api00", op = ">", value = 800),
  api00_gt875 = list(column = "api00", op = ">", value = 875),  # rare: 0.5%-13%
  ell_gt60 = list(column = "ell", op = ">", value = 60)         # rare in apiclus2 (1.6%)
)

outcome_values <- function(df, o) {
  x <- df[[o$column]]
  as.numeric(switch(o$op, "==" = as.character(x) == o$value, ">" = x > o$value))
}

one_case <- function(dname, domain, oname, level, df_mode) {
  d <- designs[[dname]]
  des <- d$des
  if (domain == "E") des <- subset(des, stype == "E")
  des <- update(des, yy = outcome_values(des$variables, outcomes[[oname]]))
  df <- if (df_mode == "degf") degf(des) else Inf
  res <- list(id = sprintf("%s-%s-%s-%g-%s", dname, domain, oname, level, df_mode),
              design = dname, data = d$data, design_call = d$call,
              domain = domain, outcome = oname, level = level, df = df,
              n = nrow(des), p_hat = unname(coef(svymean(~yy, des))))
  ci <- tryCatch(
    suppressWarnings(attr(svyciprop(~yy, des, method = "likelihood", level = level, df = df), "ci")),
    error = function(e) structure(conditionMessage(e), class = "r_error"))
  m <- tryCatch(suppressWarnings(svyglm(yy ~ 1, des, family = quasibinomial)),
                error = function(e) NULL)
  res$var_logit <- if (is.null(m)) NA else unname(vcov(m)[1, 1])
  v_mean <- unname(vcov(svymean(~yy, des))[1, 1])
  res$var_logit_from_svymean <- v_mean / (res$p_hat * (1 - res$p_hat))^2
  if (inherits(ci, "r_error")) {
    res$r_error <- as.character(ci)
    res$ci <- c(NA, NA)
  } else {
    res$r_error <- NA
    res$ci <- unname(as.numeric(ci))
    # Intermediate quantities, recomputed as confint.svyglm does.
    lambda <- m$cov.unscaled[1, 1] / m$naive.cov[1, 1]
    alpha <- if (df == Inf) pnorm(qnorm((1 - level) / 2) * sqrt(lambda)) / 2 else
      pnorm(qt((1 - level) / 2, df = df) * sqrt(lambda)) / 2
    prof <- survey:::MASSprofile_glm(m, which = 1, alpha = alpha)[[1]]
    res$intermediate <- list(
      coef = unname(coef(m)), deviance = deviance(m), naive_cov = m$naive.cov[1, 1],
      dispersion = as.numeric(summary(m)$dispersion), std_err = unname(SE(m)),
      lambda = lambda, alpha = alpha,
      profile_beta = as.numeric(prof$par.vals), profile_z = as.numeric(prof$tau))
  }
  res
}

cases <- list()
for (dname in names(designs)) {
  for (domain in c("all", "E")) {
    for (oname in names(outcomes)) {
      for (level in c(0.95, 0.9)) {
        cases[[length(cases) + 1]] <- one_case(dname, domain, oname, level, "degf")
      }
    }
  }
  # A few extra: normal-theory df and a 99% level.
  for (oname in c("sch_wide", "api00_gt875")) {
    cases[[length(cases) + 1]] <- one_case(dname, "all", oname, 0.95, "Inf")
    cases[[length(cases) + 1]] <- one_case(dname, "E", oname, 0.99, "degf")
  }
}

weights_by_design <- lapply(designs, function(d) unname(as.numeric(weights(d$des))))

# Stand-alone checks of stats::spline(method = "fmm") and stats::approx() on irregular,
# non-monotone data (the profile cases only exercise near-linear monotone curves).
sx <- c(-1.3, -0.9, -0.2, 0.05, 0.6, 1.7, 2.0, 3.4)
sy <- sin(2 * sx) + 0.3 * sx^2
sp <- spline(sx, sy)
sp_small <- spline(sx[1:3], sy[1:3])  # n = 3: no FMM end correction
ap_out <- c(-1.5, -0.5, 0, 0.25, 1)
ap <- approx(sp$y, sp$x, xout = ap_out)  # unsorted x: approx() sorts it
spline_check <- list(
  x = sx, y = sy, spline_x = sp$x, spline_y = sp$y,
  small_spline_x = sp_small$x, small_spline_y = sp_small$y,
  approx_xout = ap_out, approx_y = ap$y)

# --- minimal JSON writer with full (17 significant digit) precision --------------------
num <- function(x) {
  ifelse(is.na(x), "null",
         ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""),
                sprintf("%.17g", x)))
}
to_json <- function(x, indent = "") {
  ind2 <- paste0(indent, "  ")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(k)
        paste0(ind2, "\"", k, "\": ", to_json(x[[k]], ind2)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
    }
    items <- vapply(x, function(v) paste0(ind2, to_json(v, ind2)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", indent, "]"))
  }
  if (is.character(x)) {
    s <- paste0("\"", gsub("\"", "\\\\\"", x), "\"")
    s[is.na(x)] <- "null"
  } else if (is.logical(x) && all(is.na(x))) {
    s <- rep("null", length(x))
  } else if (is.logical(x)) {
    s <- ifelse(x, "true", "false")
  } else {
    s <- num(as.numeric(x))
  }
  if (length(x) == 1 && is.null(attr(x, "as_array"))) s else paste0("[", paste(s, collapse = ", "), "]")
}
arr <- function(x) structure(x, as_array = TRUE)
for (i in seq_along(cases)) {
  cases[[i]]$ci <- arr(cases[[i]]$ci)
  if (!is.null(cases[[i]]$intermediate)) {
    cases[[i]]$intermediate$profile_beta <- arr(cases[[i]]$intermediate$profile_beta)
    cases[[i]]$intermediate$profile_z <- arr(cases[[i]]$intermediate$profile_z)
  }
}
weights_by_design <- lapply(weights_by_design, arr)
spline_check <- lapply(spline_check, arr)

out <- list(
  generated_by = "tests/reference/make_reference_profile_ci.R",
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  note = paste("Rows of a design are the rows of its CSV in file order; weights are",
               "weights(design) for those rows; domain 'E' keeps rows with stype == 'E'",
               "(subset(design, stype == 'E')). Infinite df is written as \"Infinity\"."),
  designs = lapply(designs, function(d) list(data = d$data, call = d$call)),
  weights = weights_by_design,
  spline_check = spline_check,
  cases = cases
)
writeLines(to_json(out), json_path)
cat(sprintf("wrote %d cases (%d R errors) to %s\n", length(cases),
            sum(vapply(cases, function(z) !is.na(z$r_error), TRUE)), json_path))
