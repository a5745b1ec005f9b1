"""Model validation: the statistical tests a validator signs, as pure functions.

Modules by theme: `discrimination` (AUC/DeLong, Gini, KS, ROC, CAP), `calibration`
(Jeffreys, binomial, Hosmer-Lemeshow, Brier, traffic light), `stability` (PSI, CSI,
migration, Herfindahl), `alerting` (fraud/AML budgets, sampling, lift), `soundness`
(sensitivity, extreme values, monotonicity) and `fairness`. Each function takes arrays or
frames and returns a frozen result; none reads or writes storage.

On top of them: `policy` (validation policies as YAML: tagged thresholds, parameters, the
opinion rule), `battery` (the tests that fit a domain, with verdicts) and `runs` (the
`Validation` service: a version's out-of-time rows rebuilt from its snapshot, the battery,
the stored and audited result).
"""
