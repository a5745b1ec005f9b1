"""Monitoring: production against the development baseline, once decisions are logged.

`drift` (PSI/CSI, KS, chi-square, Jensen-Shannon and data quality of one variable) and
`kolmogorov` (SciPy's two-sample KS test, fast at production sizes) are pure functions
over arrays; the services built on them read the decision log and delayed ground truth
through the ports.
"""
