# Reference values from R's survey package for tests/analysis/test_against_r.py.
#
#   Rscript tests/analysis/reference/make_reference.R
#
# Design: stratified by district (ids = ~1, strata = ~district), base weight =
# district population / district sample size. Weighting:
#   raking       calibrate(~0 + ds + da, calfun = "raking") with ds = district x sex,
#                da = district x age group (margins within each district)
#   poststratify postStratify(~cell) on district x sex x age group
# Estimates: svyby(svymean, deff = TRUE, na.rm = TRUE) per district and svymean overall.
# Intervals: svyciprop(method = "logit", df = n_d - 1) on the district domain
# (df = n - H overall); svyciprop(method = "beta") on a design of that district alone
# (so that nrow(design) - 1 = degf = n_d - 1), and on the whole design overall.
# svyby_beta_*: for comparison, what svyby(~y, ~district, cal, svyciprop, method = "beta")
# gives, i.e. svyciprop(method = "beta") on subset(cal, district == d): the subset keeps
# all n rows, so R scales n_eff by (qt(n - 1) / qt(n_d - 1))^2 (analysis/intervals.py).
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", digits = 15)
here <- "tests/analysis"
cities <- c("city4", "city6", "city10")
indicators <- c("satisfied", "participated", "share", "score")
proportions <- c("satisfied", "participated", "share")
out <- list()
wout <- list()

calibrated <- function(d, pop, method) {
  d <- droplevels(d)
  nd <- table(d$district)
  popd <- tapply(pop$population, pop$district, sum)
  d$base_weight <- as.numeric(popd[d$district] / nd[d$district])
  des <- svydesign(ids = ~1, strata = ~district, weights = ~base_weight, data = d)
  if (method == "raking") {
    pop$ds <- paste(pop$district, pop$sex, sep = "|")
    pop$da <- paste(pop$district, pop$age_group, sep = "|")
    tds <- tapply(pop$population, pop$ds, sum)
    tda <- tapply(pop$population, pop$da, sum)
    mm <- model.matrix(~ 0 + ds + da, d)
    tot <- sapply(colnames(mm), function(cn) {
      if (startsWith(cn, "ds")) tds[[sub("^ds", "", cn)]] else tda[[sub("^da", "", cn)]]
    })
    calibrate(des, ~ 0 + ds + da, population = tot, calfun = "raking",
              epsilon = 1e-13, maxit = 1000)
  } else {
    pop$cell <- paste(pop$district, pop$sex, pop$age_group, sep = "|")
    pt <- aggregate(population ~ cell, pop, sum)
    names(pt) <- c("cell", "Freq")
    postStratify(des, ~cell, population = pt)
  }
}

for (city in cities) {
  d <- read.csv(file.path(here, "data", paste0(city, "_responses.csv")), stringsAsFactors = FALSE)
  pop <- read.csv(file.path(here, "data", paste0(city, "_population.csv")), stringsAsFactors = FALSE)
  d$ds <- factor(paste(d$district, d$sex, sep = "|"))
  d$da <- factor(paste(d$district, d$age_group, sep = "|"))
  d$cell <- paste(d$district, d$sex, d$age_group, sep = "|")
  H <- length(unique(d$district))
  for (method in c("raking", "poststratify")) {
    cal <- calibrated(d, pop, method)
    wout[[length(wout) + 1]] <- data.frame(city = city, method = method,
      respondent_id = d$respondent_id, weight = weights(cal))
    for (y in indicators) {
      f <- as.formula(paste0("~", y))
      by <- svyby(f, ~district, cal, svymean, deff = TRUE, na.rm = TRUE, keep.var = TRUE)
      tot <- svymean(f, cal, deff = TRUE, na.rm = TRUE)
      rows <- data.frame(domain = c(as.character(by$district), "ALL"),
                         estimate = c(by[[y]], coef(tot)),
                         se = c(by[["se"]], SE(tot)),
                         deff = c(by[[paste0("DEff.", y)]], deff(tot)))
      rows$n <- c(as.vector(tapply(!is.na(d[[y]]), d$district, sum)[as.character(by$district)]),
                  sum(!is.na(d[[y]])))
      rows$logit_low <- NA; rows$logit_high <- NA; rows$beta_low <- NA; rows$beta_high <- NA
      rows$svyby_beta_low <- NA; rows$svyby_beta_high <- NA
      if (y %in% proportions) {
        for (k in seq_len(nrow(rows))) {
          dom <- rows$domain[k]
          p <- rows$estimate[k]
          if (p <= 1e-9 || p >= 1 - 1e-9) next  # degenerate: no design variance
          if (dom == "ALL") {
            sub <- cal; df <- sum(!is.na(d[[y]])) - H; alone <- cal
          } else {
            sub <- subset(cal, district == dom); df <- rows$n[k] - 1
            alone <- calibrated(d[d$district == dom, ], pop[pop$district == dom, ], method)
          }
          lg <- svyciprop(f, sub, method = "logit", df = df, na.rm = TRUE)
          bt <- svyciprop(f, alone, method = "beta", na.rm = TRUE)
          rows$logit_low[k] <- confint(lg)[1]; rows$logit_high[k] <- confint(lg)[2]
          rows$beta_low[k] <- confint(bt)[1]; rows$beta_high[k] <- confint(bt)[2]
          if (dom != "ALL") {
            sb <- svyciprop(f, sub, method = "beta", na.rm = TRUE)
            rows$svyby_beta_low[k] <- confint(sb)[1]; rows$svyby_beta_high[k] <- confint(sb)[2]
          }
        }
      }
      rows$city <- city; rows$method <- method; rows$indicator <- y
      out[[length(out) + 1]] <- rows
    }
  }
}
res <- do.call(rbind, out)
res <- res[, c("city", "method", "indicator", "domain", "n", "estimate", "se", "deff",
               "logit_low", "logit_high", "beta_low", "beta_high",
               "svyby_beta_low", "svyby_beta_high")]
header <- paste0("# R ", R.version$major, ".", R.version$minor, ", survey ",
                 packageVersion("survey"), "; produced by: Rscript tests/analysis/reference/make_reference.R")
target <- file.path(here, "reference", "r_estimates.csv")
writeLines(header, target)
suppressWarnings(write.table(format(res, digits = 15), target, sep = ",", row.names = FALSE,
                             append = TRUE, quote = TRUE))
wt <- do.call(rbind, wout)
writeLines(header, file.path(here, "reference", "r_weights.csv"))
suppressWarnings(write.table(format(wt, digits = 15), file.path(here, "reference", "r_weights.csv"),
                             sep = ",", row.names = FALSE, append = TRUE, quote = TRUE))
cat("wrote", nrow(res), "estimate rows and", nrow(wt), "weights\n")
