"""Model validation: the statistical tests a validator signs, as pure functions.

Modules by theme: `discrimination` (AUC/DeLong, Gini, KS, ROC, CAP), `calibration`
(Jeffreys, binomial, Hosmer-Lemeshow, Brier, traffic light), `stability` (PSI, CSI,
migration, Herfindahl), `alerting` (fraud/AML budgets, sampling, lift), `soundness`
(sensitivity, extreme values, monotonicity) and `fairness`. Each function takes arrays or
frames and returns a frozen result; none reads or writes storage.
"""
