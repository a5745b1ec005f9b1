"""The credit battery on synthetic rows, its counts checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bankml.core.registry import Domain
from bankml.validation.battery import BatteryResult, Population, Reference, run_battery
from bankml.validation.policy import default_policy


def credit_battery(scores: np.ndarray, labels: np.ndarray,
                   reference_scores: np.ndarray) -> BatteryResult:
    """The shipped credit policy's statistical tests (no soundness or explanations)."""
    inputs = pd.DataFrame({"x": scores})
    population = Population(name="out_of_time", inputs=inputs, labels=labels, scores=scores,
                            protected=pd.DataFrame(index=inputs.index))
    reference = Reference(inputs=pd.DataFrame({"x": reference_scores}),
                          scores=reference_scores)
    return run_battery(default_policy(Domain.CREDIT), Domain.CREDIT, population, reference,
                       model=lambda frame: frame["x"].to_numpy(), explain_model=None,
                       decision_cutoffs={}, full=False)


def test_concentration_counts_empty_grades_in_k() -> None:
    """The Herfindahl index runs over every master-scale grade (K = 9 for the shipped
    8-bound scale), empty ones included, as ECB 2.5.5.3 and docs/validation.md say."""
    rng = np.random.default_rng(1)
    scores = rng.choice([0.003, 0.03, 0.2], size=300)  # grades G2, G6 and G8 only
    labels = (rng.random(300) < scores).astype(np.int64)
    reference = rng.choice([0.003, 0.03, 0.06, 0.2], size=300)

    result = credit_battery(scores, labels, reference)

    [test] = [t for t in result.tests if t.test == "stability.concentration"]
    counts = np.bincount(np.searchsorted(default_policy(Domain.CREDIT).parameters.master_scale,
                                         scores), minlength=9)
    shares = counts / counts.sum()
    assert result.details.charts["concentration"]["grades"] == 9
    assert test.value == pytest.approx(1 + math.log(np.sum(shares**2)) / math.log(9),
                                       abs=1e-12)
