# Reference numbers for csa_survey.survival (design-weighted Kaplan-Meier), from R's survey.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference_survival.R
# It writes tests/reference/survival.json. The Python tests never need R. The api data
# are read from tests/reference/api*.csv (written by make_reference.R); the pbc cases
# embed their rows in the JSON.
#
# What is compared (see csa_survey/survival.py, Notes):
#  * "km": svykm(se = FALSE) product-limit curves (svykm.fit): time and surv, all groups;
#  * "na": svykm(se = TRUE): R's Nelson-Aalen curve exp(-H) with varlog (last row of each
#    tied event time), confint.svykm at `at`, quantile.svykm(ci = TRUE);
#  * "km_lin": the linearisation SE of the product-limit S(t) computed independently in R:
#    svytotal of the event and at-risk indicators at every event time, then svycontrast of
#    exp(sum(log(1 - D_k / Y_k))) (R's symbolic delta method);
#  * "rep": replicate designs (as.svrepdesign), SEs of S(t) at `at` from
#    withReplicates(design, svykm.fit at each replicate's weights).

suppressPackageStartupMessages({
  library(survey)
  library(survival)
  library(jsonlite)
})
out_dir <- "tests/reference"
stopifnot(dir.exists(out_dir))

rd <- function(name) read.csv(file.path(out_dir, paste0(name, ".csv")))

apistrat <- rd("apistrat")
apiclus1 <- rd("apiclus1")
prep_api <- function(d) {
  d$t <- floor(d$api99 / 50)       # 4..19, many ties
  d$e <- d$y_aw                    # awards: about 60% events
  d
}
apistrat <- prep_api(apistrat)
apiclus1 <- prep_api(apiclus1)

data(pbc, package = "survival")
pbc <- pbc[!is.na(pbc$trt), c("id", "time", "status", "trt", "sex", "edema", "stage")]
pbc$e <- as.integer(pbc$status == 2)
pbc$t <- pbc$time
pbc$w <- ifelse(pbc$trt == 1, 1.5, 2.5) * ifelse(pbc$sex == "f", 1, 3)
pbc$sexn <- as.integer(pbc$sex == "f")   # 1 = female
pbc$clus <- (pbc$id - 1) %/% 4 + 1           # clusters of 4 consecutive ids
pbc$edema_s <- as.integer(round(pbc$edema * 2))   # strata 0, 1, 2

designs <- list(
  apistrat = list(
    design = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
    data = "apistrat", spec = list(weights = "pw", strata = "stype", fpc = "fpc"),
    by = "stype", at = c(10, 13, 16)
  ),
  apiclus1 = list(
    design = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
    data = "apiclus1", spec = list(weights = "pw", psu = "dnum", fpc = "fpc"),
    by = "stype", at = c(10, 13, 16)
  ),
  pbc = list(
    design = svydesign(id = ~clus, strata = ~edema_s, weights = ~w, nest = TRUE, data = pbc),
    data = "pbc", spec = list(weights = "w", strata = "edema_s", psu = "clus"),
    by = "sexn", at = c(400, 1000, 2000)
  )
)

na_curve <- function(fit) {
  keep <- !duplicated(fit$time, fromLast = TRUE)
  list(time = fit$time[keep], surv = fit$surv[keep], varlog = fit$varlog[keep])
}

km_curve <- function(fit) list(time = fit$time, surv = fit$surv)

# independent linearisation SE of the product-limit S(t): svytotal + svycontrast
km_lin <- function(design, data, at, group = NULL) {
  w <- weights(design)
  ing <- if (is.null(group)) rep(TRUE, nrow(data)) else group
  ev <- sort(unique(data$t[data$e == 1 & w > 0 & ing]))
  ev <- ev[ev <= max(at)]
  K <- length(ev)
  X <- matrix(0, nrow(data), 2 * K)
  for (k in seq_len(K)) {
    X[, k] <- as.numeric(data$t == ev[k] & data$e == 1 & ing)
    X[, K + k] <- as.numeric(data$t >= ev[k] & ing)
  }
  colnames(X) <- c(paste0("D", seq_len(K)), paste0("Y", seq_len(K)))
  des <- update(design, .X = X)
  des$variables <- cbind(des$variables, as.data.frame(X))
  tot <- svytotal(as.formula(paste("~", paste(colnames(X), collapse = "+"))), des)
  exprs <- lapply(at, function(a) {
    ks <- which(ev <= a)
    if (length(ks) == 0) return(quote(1))
    parse(text = paste0("exp(", paste0("log(1 - D", ks, "/Y", ks, ")", collapse = " + "), ")"))[[1]]
  })
  names(exprs) <- paste0("t", at)
  cc <- svycontrast(tot, exprs)
  list(at = at, surv = unname(coef(cc)), se = unname(SE(cc)))
}

surv_at <- function(fit, at) sapply(at, function(a) fit$surv[max(which(fit$time <= a))])

out <- list()
for (nm in names(designs)) {
  spec <- designs[[nm]]
  des <- spec$design
  dat <- model.frame(des)
  byv <- spec$by
  fby <- as.formula(paste("Surv(t, e) ~", byv))
  km <- svykm(Surv(t, e) ~ 1, des, se = FALSE)
  kmby <- svykm(fby, des, se = FALSE)
  na <- svykm(Surv(t, e) ~ 1, des, se = TRUE)
  naby <- svykm(fby, des, se = TRUE)
  ci <- confint(na, parm = spec$at, level = 0.95)
  ci90 <- confint(na, parm = spec$at, level = 0.90)
  qq <- quantile(na, probs = c(0.75, 0.5, 0.25), ci = TRUE)
  levs <- names(naby)
  res <- list(
    data = spec$data, spec = spec$spec, by = byv, at = spec$at,
    km = km_curve(km),
    km_by = lapply(kmby, km_curve),
    na = na_curve(na),
    na_by = lapply(naby, na_curve),
    na_ci = list(low = unname(ci[, 1]), high = unname(ci[, 2])),
    na_ci90 = list(low = unname(ci90[, 1]), high = unname(ci90[, 2])),
    na_quantile = list(probs = c(0.75, 0.5, 0.25), estimate = unname(qq),
                       low = unname(attr(qq, "ci")[, 1]), high = unname(attr(qq, "ci")[, 2])),
    km_lin = km_lin(des, dat, spec$at),
    km_lin_by = lapply(levs, function(g) km_lin(des, dat, spec$at, group = dat[[byv]] == g)),
    levels = levs
  )
  names(res$km_lin_by) <- levs
  out[[nm]] <- res
}

# replicate designs: S(t) at `at` refitted per replicate (withReplicates)
rep_cases <- list(
  apistrat_jkn = list(base = "apistrat", type = "JKn"),
  apiclus1_jk1 = list(base = "apiclus1", type = "JK1")
)
for (nm in names(rep_cases)) {
  rc <- rep_cases[[nm]]
  spec <- designs[[rc$base]]
  rdes <- as.svrepdesign(spec$design, type = rc$type)
  at <- spec$at
  wr <- withReplicates(rdes, function(w, data) {
    f <- survey:::svykm.fit(Surv(data$t, data$e), w)
    surv_at(f, at)
  })
  out[[nm]] <- list(data = spec$data, spec = spec$spec, type = rc$type, at = at,
                    surv = unname(as.numeric(coef(wr))), se = unname(as.numeric(SE(wr))))
}

out$pbc_rows <- pbc[, c("id", "t", "e", "w", "sexn", "clus", "edema_s")]
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null"),
           file.path(out_dir, "survival.json"))
cat("wrote", file.path(out_dir, "survival.json"), "\n")
