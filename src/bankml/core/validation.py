"""Validation verdicts: thresholds with their provenance, test verdicts, the overall opinion.

A threshold says which statistic of a test it reads, which way is better and where green
turns amber and amber turns red; it carries a provenance tag (regulatory.md design rule
D-1: regulation, supervisory, industry or bank policy) and its source, so a bank-policy
number is never presented as regulation. Test verdicts roll up to the ECB's four-level
opinion (ECB validation reporting instructions, section 2.4.2). A run's whole result is a
`ValidationResult`, the evidence a sign-off rests on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from bankml.core.canonical import JsonValue
from bankml.core.errors import InvalidInputError
from bankml.core.manifest import CodeVersion
from bankml.core.registry import Domain, Model


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
class SignificanceRule:
    """A red needs a significant difference too (regulatory.md FL-12: flag a ratio beyond
    its bound only when the difference behind it is significant): a value beyond amber
    whose p-value is not below `level` is amber, as chance could have made it."""

    level: float
    tag: Tag
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """Green and amber bounds of one statistic; beyond amber is red.

    With `better` higher: green when value >= green, amber when >= amber, else red.
    With `better` lower: green when value <= green, amber when <= amber, else red.
    A value that could not be computed (NaN) is amber: it needs a validator's look.
    With a `significance` rule, beyond amber is red only when the test's p-value is below
    the rule's level; a p-value that is not (or was not computed) leaves it amber.
    """

    test: str
    statistic: str  # "value" or "p_value": which number of the test result is read
    better: Better
    green: float
    amber: float
    tag: Tag
    source: str
    material: bool = False  # a red here weighs as a severe deficiency
    significance: SignificanceRule | None = None

    def verdict(self, value: float, *, p_value: float | None = None) -> Verdict:
        verdict = self.bounds_verdict(value)
        if verdict == Verdict.RED and not self.is_significant(p_value):
            return Verdict.AMBER
        return verdict

    def bounds_verdict(self, value: float) -> Verdict:
        """The verdict of the bounds alone, before any significance rule."""
        if math.isnan(value):
            return Verdict.AMBER
        sign = 1.0 if self.better == Better.HIGHER else -1.0
        if sign * value >= sign * self.green:
            return Verdict.GREEN
        return Verdict.AMBER if sign * value >= sign * self.amber else Verdict.RED

    def is_significant(self, p_value: float | None) -> bool:
        """Whether `p_value` meets the significance rule; always, without one."""
        if self.significance is None:
            return True
        return p_value is not None and p_value < self.significance.level

    def describe(self) -> str:
        """`>= 0.70 green, >= 0.60 amber` style text for reports."""
        op = ">=" if self.better == Better.HIGHER else "<="
        text = f"{op} {self.green:g} green, {op} {self.amber:g} amber"
        if self.significance is not None:
            text += f", red only if p < {self.significance.level:g}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationTestResult:
    """One test on one population, its numbers and its verdict under the policy."""

    test: str  # e.g. "discrimination.auc" or "fairness.impact_ratio[sex]"
    population: str  # "out_of_time" (or "holdout_random") or "sample"
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
    # Run by the model's developer or the version's registrant: a developer self-test,
    # never independent validation (a sign-off cannot rest on it).
    self_test: bool = False

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PdFloor:
    """The lowest PD a calibration test reads (e.g. the IRB floor of CRR Art. 160(1)): a
    model's PD below it is raised to it, as own-funds PDs are, and recorded."""

    value: float
    tag: Tag
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationBaseline:
    """A model's initial validation (ECB PD-07's AUC_init): the run the sign-off in force
    rested on when the model first entered production. Set once."""

    model: str
    version: int
    run_id: str
    validator: str  # who signed off on the run
    request_id: int  # the request whose execution was the first approval for prod
    recorded_at: str


# -- the stored result of a run -------------------------------------------------------------
#
# What a run stores as its JSON artifact, typed. Numbers that could not be computed are
# None (null in JSON), except a test's `value`, which stays NaN as the verdict rules read
# it. The stored layout is read and written by `bankml.core.serialisation`.

# 1: the plain dictionaries runs stored before the schema had a version;
# 2: the same layout, with `schema_version`;
# 3: the test rows named for how they were drawn (`scope.test_population`): a random
#    split's are `holdout_random`, not `out_of_time`; 1 and 2 read as `out_of_time`.
RESULT_SCHEMA_VERSION = 3
OUT_OF_TIME = "out_of_time"  # test rows from a date on
HOLDOUT_RANDOM = "holdout_random"  # a seeded random (or grouped) share: weaker evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyIdentity:
    """Which policy judged a run, and where its opinion rule comes from."""

    policy_id: str
    version: str  # the declared version + "+" + the first 12 hex of the text's sha256
    sha256: str
    effective: str  # YYYY-MM-DD
    opinion_tag: Tag
    opinion_source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationScope:
    """The rows of one population: how many, how many events, and which period or file."""

    rows: int
    events: int
    event_rate: float
    period: tuple[str, str] | None = None  # first and last date (YYYY-MM-DD)
    path: str | None = None  # a fresh sample: the file it was read from
    sha256: str | None = None  # a fresh sample: its dataset digest


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What a run tested on: the populations, the data's digests, attributes and cut-offs."""

    train: PopulationScope
    out_of_time: PopulationScope
    dataset_sha256: str
    snapshot_sha256: str
    test_from: str  # the out-of-time date, YYYY-MM-DD
    protected_attributes: tuple[str, ...]
    decision_cutoffs: Mapping[str, float]
    sample: PopulationScope | None = None
    test_population: str = OUT_OF_TIME  # the name the test rows carry, by how they were drawn

    def populations(self) -> list[tuple[str, PopulationScope]]:
        """Training, test (out of time or random) and (when tested) sample rows, in order."""
        named = [("train", self.train), (self.test_population, self.out_of_time)]
        return named + ([("sample", self.sample)] if self.sample is not None else [])


@dataclass(frozen=True, slots=True, kw_only=True)
class AucSummary:
    """AUC with its DeLong variance and confidence interval (ECB PD-06)."""

    auc: float | None
    gini: float | None
    variance: float | None
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    n_events: int
    n_non_events: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InitialAucComparison:
    """ECB PD-07: the current AUC against the initial validation's."""

    auc_initial: float | None
    auc_current: float | None
    variance: float | None
    statistic: float | None
    p_value: float | None
    source: str  # where the initial AUC comes from


@dataclass(frozen=True, slots=True, kw_only=True)
class ChampionComparison:
    """DeLong test of this version's AUC against the compared version's, on the same rows."""

    against: str  # the compared version, name@number
    auc_a: float | None
    auc_b: float | None
    difference: float | None
    std_error: float | None
    z: float | None
    p_value: float | None
    correlation: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSelection:
    """One group's favourable-decision rate against the reference group's, with intervals."""

    group: str
    n: int
    is_small: bool  # below the policy's minimum group size: shown, not compared
    selection_rate: float | None
    true_positive_rate: float | None
    false_positive_rate: float | None
    impact_ratio: float | None
    four_fifths_flag: bool
    statistical_parity_difference: float | None
    equal_opportunity_difference: float | None
    average_odds_difference: float | None
    z: float | None
    p_value: float | None
    shortfall: float | None
    impact_ratio_low: float | None = None
    impact_ratio_high: float | None = None
    statistical_parity_difference_low: float | None = None
    statistical_parity_difference_high: float | None = None
    equal_opportunity_difference_low: float | None = None
    equal_opportunity_difference_high: float | None = None
    average_odds_difference_low: float | None = None
    average_odds_difference_high: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupCalibration:
    """One group's observed default rate against its mean PD (PD-32)."""

    group: str
    n: int
    is_small: bool
    mean_pd: float | None
    default_rate: float | None
    difference: float | None
    jeffreys_p_value: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyScore:
    """How well one input predicts the protected attribute."""

    feature: str
    auc: float | None
    cramers_v: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupAlerts:
    """One group's alert burden and alert quality against the reference group's."""

    group: str
    n: int
    is_small: bool
    alert_rate: float | None
    alert_rate_ratio: float | None
    false_positive_rate: float | None
    false_positive_rate_ratio: float | None
    precision: float | None
    precision_ratio: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectionFairness:
    """Credit and propensity: favourable decisions by group of one attribute (or an
    intersection), with group calibration and proxy screening for single credit attributes."""

    attribute: str  # a column, or "a & b" for an intersection
    reference: str
    reference_rule: str  # "declared" or "highest selection rate"
    min_max_ratio: float | None
    groups: tuple[GroupSelection, ...]
    calibration: tuple[GroupCalibration, ...] = ()
    proxies: tuple[ProxyScore, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertFairness:
    """Fraud and AML: alert parity by group of one attribute (or an intersection)."""

    attribute: str
    groups: tuple[GroupAlerts, ...]


FairnessTable = SelectionFairness | AlertFairness


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationDetails:
    """What the battery found on one population beyond the verdicts.

    The parts that are read (the AUC, the PD-07 comparison, the champion comparison, the
    fairness tables) are typed; the chart data (curves, bins, tables of many shapes) is
    kept by name in `charts`, as plain JSON data.
    """

    auc: AucSummary | None = None
    auc_vs_initial: InitialAucComparison | None = None
    comparison: ChampionComparison | None = None
    fairness: tuple[FairnessTable, ...] = ()
    charts: Mapping[str, JsonValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = sorted(set(self.charts) & set(TYPED_DETAILS))
        if clash:
            raise InvalidInputError("details.charts", f"{', '.join(clash)} are typed parts, "
                                    "not charts", rule="evidence.schema")


TYPED_DETAILS = ("auc", "auc_vs_initial", "comparison", "fairness")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeSincePrevious:
    """One test in the previous run and in this one."""

    test: str
    population: str
    before: float | None
    now: float | None
    verdict_before: Verdict
    verdict_now: Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviousRun:
    """The model's run before this one, and how each test moved since."""

    run_id: str
    model: str  # the version it validated, name@number
    created_at: str
    opinion: Opinion
    deltas: tuple[ChangeSincePrevious, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReproductionPack:
    """What re-running a validation needs: the command and the digest of every input."""

    command: str
    artifact_sha256: str
    dataset_sha256: str
    snapshot_sha256: str
    policy_sha256: str
    spec_sha256: str | None
    code: CodeVersion | None  # the code that built the version, from its manifest
    seed: int
    against_artifact_sha256: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    """Everything one run found, as stored: the evidence behind a validation sign-off."""

    run_id: str
    model: str  # the version validated, name@number
    domain: Domain
    model_card: Model  # the model's definition when it was validated
    created_at: str
    created_by: str
    policy: PolicyIdentity
    opinion: Opinion
    fairness_passed: bool  # no red fairness test
    against: str | None  # the version compared with, name@number
    scope: Scope
    tests: tuple[ValidationTestResult, ...]
    details: Mapping[str, PopulationDetails]  # by population: out_of_time, sample
    previous: PreviousRun | None
    reproduce: ReproductionPack
    schema_version: int = RESULT_SCHEMA_VERSION

    @property
    def out_of_time(self) -> PopulationDetails:
        """The details of the test rows, which every run tests: out of time, or the random
        holdout of data without dates (`scope.test_population` names which)."""
        return self.details.get(self.scope.test_population, PopulationDetails())

    def verdict_counts(self) -> dict[Verdict, int]:
        """How many tests are green, amber and red."""
        return {verdict: sum(t.verdict == verdict for t in self.tests) for verdict in Verdict}

    def key_tests(self, limit: int) -> list[ValidationTestResult]:
        """Material tests first, then reds and ambers: what a reader should see first."""
        rank = {Verdict.RED: 0, Verdict.AMBER: 1, Verdict.GREEN: 2}
        return sorted(self.tests, key=lambda t: (not t.threshold.material,
                                                 rank[t.verdict]))[:limit]
