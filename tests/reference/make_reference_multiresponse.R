# Reference numbers for csa_survey's multiple-response parity tests (R survey 4.x).
#
# Run from the repository root:  Rscript tests/reference/make_reference_multiresponse.R
# Reads tests/reference/apiclus1.csv and apistrat.csv (written by make_reference.R) and
# writes tests/reference/multiresponse.json. Python tests never need R.
#
# A "select all that apply" set is emulated by four 0/1 school indicators
# (sch.wide, comp.imp, awards, yr.rnd == "Yes"). Rows with snum %% 7 == 0 did not answer the
# set (all four missing), so the base is "answered the set": subset(design, !is.na(i_sw)),
# which keeps the full design as csa_survey's MultiResponse does.
#
# Per case: svymean of the four items (joint vcov), svyciprop(method = "logit") per item
# (df = degf(full design)), svycontrast of every pair of items, and the adjusted Wald
# F test that all items are equally prevalent, (d - q + 1)/(d q) * W on (q, d - q + 1) df,
# computed from R's vcov. By-group: svyby(..., covmat = TRUE).

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
ref <- "tests/reference"
items <- c("i_sw", "i_ci", "i_aw", "i_yr")

prep <- function(d) {
  d$i_sw <- as.integer(d$sch.wide == "Yes")
  d$i_ci <- as.integer(d$comp.imp == "Yes")
  d$i_yr <- as.integer(d$yr.rnd == "Yes")
  d$i_aw <- as.integer(d$awards == "Yes")
  gone <- d$snum %% 7 == 0
  d[gone, items] <- NA
  d
}
apiclus1 <- prep(read.csv(file.path(ref, "apiclus1.csv"), stringsAsFactors = FALSE))
apistrat <- prep(read.csv(file.path(ref, "apistrat.csv"), stringsAsFactors = FALSE))

designs <- list(
  clus1 = svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  strat = svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
  clus1_jk1 = as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc,
                                       data = apiclus1), type = "JK1")
)

fml <- as.formula(paste("~", paste(items, collapse = "+")))
pairs <- combn(length(items), 2)

one_case <- function(d, df_full) {
  m <- svymean(fml, d)
  V <- vcov(m)
  props <- lapply(items, function(it) {
    p <- svyciprop(as.formula(paste0("~", it)), d, method = "logit", df = df_full)
    ci <- attr(p, "ci")
    list(item = it, estimate = as.numeric(p), se = as.numeric(SE(p)),
         ci_low = as.numeric(ci[1]), ci_high = as.numeric(ci[2]))
  })
  cons <- lapply(seq_len(ncol(pairs)), function(k) {
    a <- pairs[1, k]; b <- pairs[2, k]
    w <- setNames(rep(0, length(items)), items)
    w[a] <- 1; w[b] <- -1
    cc <- svycontrast(m, w)
    list(item_1 = items[a], item_2 = items[b], difference = as.numeric(coef(cc)),
         se = as.numeric(SE(cc)))
  })
  q <- length(items) - 1
  C <- cbind(1, -diag(q))
  dd <- C %*% coef(m)
  W <- as.numeric(t(dd) %*% solve(C %*% V %*% t(C)) %*% dd)
  Fst <- (df_full - q + 1) / (df_full * q) * W
  list(estimate = as.numeric(coef(m)), vcov = unname(as.matrix(V)), proportions = props,
       contrasts = cons,
       wald = list(statistic = Fst, df = q, df_denom = df_full - q + 1,
                   p_value = pf(Fst, q, df_full - q + 1, lower.tail = FALSE)))
}

out <- list()
for (nm in names(designs)) {
  d <- designs[[nm]]
  df_full <- degf(d)
  base <- subset(d, !is.na(i_sw))
  out[[nm]] <- one_case(base, df_full)
  elem <- subset(d, !is.na(i_sw) & stype == "E")
  out[[paste0(nm, "_elementary")]] <- one_case(elem, df_full)
  by <- svyby(fml, ~stype, base, svymean, covmat = TRUE)
  out[[paste0(nm, "_by_stype")]] <- list(
    groups = as.character(by$stype),
    coef_names = names(coef(by)),
    coef = as.numeric(coef(by)),
    vcov = unname(as.matrix(vcov(by)))
  )
}
out$meta <- list(r_version = R.version.string,
                 survey_version = as.character(packageVersion("survey")),
                 items = items)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
           file.path(ref, "multiresponse.json"))
cat("wrote", file.path(ref, "multiresponse.json"), "\n")
