"""Validation verdicts: thresholds with their provenance, test verdicts, the overall opinion.

A threshold says which statistic of a test it reads, which way is better and where green
turns amber and amber turns red; it carries a provenance tag (regulatory.md design rule
D-1: regulation, supervisory, industry or bank policy) and its source, so a bank-policy
number is never presented as regulation. Test verdicts roll up to the ECB's four-level
opinion (ECB validation reporting instructions, section 2.4.2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Verdict(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Tag(StrEnum):
    """Where a threshold comes from (regulatory.md: [REG], [SUP], [IND], [POL])."""

    REGULATION = "regulation"
    SUPERVISORY = "supervisory"
    INDUSTRY = "industry"
    BANK_POLICY = "bank_policy"


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Opinion(IntEnum):
    """The ECB's four-level overall assessment of a validation."""

    ADEQUATE = 1
    MINOR_DEFICIENCIES = 2
    MAJOR_DEFICIENCIES = 3
    SEVERE_DEFICIENCIES = 4

    @property
    def label(self) -> str:
        return {1: "adequate, no deficiencies", 2: "adequate, minor deficiencies",
                3: "major deficiencies", 4: "severe deficiencies"}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """Green and amber bounds of one statistic; beyond amber is red.

    With `better` higher: green when value >= green, amber when >= amber, else red.
    With `better` lower: green when value <= green, amber when <= amber, else red.
    A value that could not be computed (NaN) is amber: it needs a validator's look.
    """

    test: str
    statistic: str  # "value" or "p_value": which number of the test result is read
    better: Better
    green: float
    amber: float
    tag: Tag
    source: str
    material: bool = False  # a red here weighs as a severe deficiency

    def verdict(self, value: float) -> Verdict:
        if math.isnan(value):
            return Verdict.AMBER
        sign = 1.0 if self.better == Better.HIGHER else -1.0
        if sign * value >= sign * self.green:
            return Verdict.GREEN
        return Verdict.AMBER if sign * value >= sign * self.amber else Verdict.RED

    def describe(self) -> str:
        """`>= 0.70 green, >= 0.60 amber` style text for reports."""
        op = ">=" if self.better == Better.HIGHER else "<="
        return f"{op} {self.green:g} green, {op} {self.amber:g} amber"


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationTestResult:
    """One test on one population, its numbers and its verdict under the policy."""

    test: str  # e.g. "discrimination.auc" or "fairness.impact_ratio[sex]"
    population: str  # "out_of_time" or "sample"
    value: float
    p_value: float | None
    threshold: Threshold
    verdict: Verdict
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpinionRule:
    """How verdicts roll up: the fewest reds (or ambers) that reach each level."""

    severe_material_reds: int = 1
    severe_reds: int = 3
    major_reds: int = 1
    minor_ambers: int = 1
    tag: Tag = Tag.BANK_POLICY
    source: str = ""

    def opinion(self, results: Iterable[ValidationTestResult]) -> Opinion:
        listed = list(results)
        reds = [r for r in listed if r.verdict == Verdict.RED]
        ambers = sum(r.verdict == Verdict.AMBER for r in listed)
        material_reds = sum(r.threshold.material for r in reds)
        if material_reds >= self.severe_material_reds or len(reds) >= self.severe_reds:
            return Opinion.SEVERE_DEFICIENCIES
        if len(reds) >= self.major_reds:
            return Opinion.MAJOR_DEFICIENCIES
        if reds or ambers >= self.minor_ambers:
            return Opinion.MINOR_DEFICIENCIES
        return Opinion.ADEQUATE


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationRun:
    """One stored run of the battery on a version: the evidence a sign-off references."""

    run_id: str
    model: str
    version: int
    created_at: str
    created_by: str
    policy_id: str
    policy_version: str  # the policy's declared version and the sha256 of its text
    opinion: Opinion
    fairness_passed: bool
    greens: int
    ambers: int
    reds: int
    result_sha256: str  # the full JSON result in the artifact store
    against: str | None = None  # the version compared with, `name@number`

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"
