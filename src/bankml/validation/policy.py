"""Validation policies as data: thresholds with provenance, run parameters, the opinion rule.

A policy is a YAML file (one default per domain ships in `validation/policies/`); its
version is its declared version plus the sha256 of its text, stored with every run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bankml.core.canonical import sha256_hex
from bankml.core.domains import profile
from bankml.core.errors import InvalidInputError
from bankml.core.registry import Domain
from bankml.core.validation import (
    Better,
    OpinionRule,
    PdFloor,
    SignificanceRule,
    Tag,
    Threshold,
)
from bankml.documents import parse_document

DEFAULTS = Path(__file__).parent / "policies"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Significance(_Strict):
    level: float = Field(default=0.05, gt=0, lt=1)
    tag: Tag
    source: str = Field(min_length=1)


class _Threshold(_Strict):
    statistic: str = Field(default="value", pattern="^(value|p_value)$")
    better: Better
    green: float
    amber: float
    tag: Tag
    source: str = Field(min_length=1)
    material: bool = False
    # red only when the test's p-value is below the level (FL-12); for ratio tests
    significance: _Significance | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Threshold:
        if (self.green < self.amber) if self.better == Better.HIGHER else \
                (self.green > self.amber):
            raise ValueError(f"green {self.green} is beyond amber {self.amber}: with "
                             f"better={self.better} green must be the stricter bound")
        if self.significance is not None and self.statistic == "p_value":
            raise ValueError("significance: the bounds already read the p-value; the rule "
                             "is for bounds on a value")
        return self


class _Opinion(_Strict):
    severe_material_reds: int = Field(default=1, ge=1)
    severe_reds: int = Field(default=3, ge=1)
    major_reds: int = Field(default=1, ge=1)
    minor_ambers: int = Field(default=1, ge=1)
    tag: Tag = Tag.BANK_POLICY
    source: str = Field(min_length=1)


class _PdFloor(_Strict):
    value: float = Field(gt=0, lt=1)
    tag: Tag
    source: str = Field(min_length=1)


class _Parameters(_Strict):
    master_scale: list[float] = Field(default_factory=list)  # PD grade upper bounds
    pd_floor: _PdFloor | None = None  # the lowest PD calibration tests read
    # Numeric protected attributes the model's spec gives no bands: cut here, with a warning.
    default_bands: list[float] = Field(default_factory=list)
    # Per column, for a policy written for one model: a column the model lacks is an error.
    bands: dict[str, list[float]] = Field(default_factory=dict)  # numeric protected attrs
    monotone: dict[str, int] = Field(default_factory=dict)  # feature -> +1 / -1
    max_intersection: int = Field(default=2, ge=1)
    min_group_size: int = Field(default=30, ge=1)
    bootstrap_samples: int = Field(default=1000, ge=0)
    sensitivity_delta: float = Field(default=0.1, gt=0)
    soundness_rows: int = Field(default=500, ge=10)
    explain_rows: int = Field(default=500, ge=10)
    alert_budget: float = Field(default=0.01, gt=0, le=1)
    top_k: int = Field(default=100, ge=1)
    seed: int = 0


class _PolicyFile(_Strict):
    policy: str = Field(min_length=1)
    version: str = Field(min_length=1)
    domain: Domain
    effective: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    parameters: _Parameters = Field(default_factory=_Parameters)
    thresholds: dict[str, _Threshold]
    opinion: _Opinion


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameters:
    """How the battery runs: grades, bands, directions, sizes and seed."""

    master_scale: tuple[float, ...] = ()
    pd_floor: PdFloor | None = None
    default_bands: tuple[float, ...] = ()
    bands: dict[str, tuple[float, ...]] = field(default_factory=dict)
    monotone: dict[str, int] = field(default_factory=dict)
    max_intersection: int = 2
    min_group_size: int = 30
    bootstrap_samples: int = 1000
    sensitivity_delta: float = 0.1
    soundness_rows: int = 500
    explain_rows: int = 500
    alert_budget: float = 0.01
    top_k: int = 100
    seed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationPolicy:
    """A loaded policy: thresholds by test, parameters, the opinion rule and its identity."""

    policy_id: str
    version: str  # declared version + "+" + first 12 hex of the text's sha256
    sha256: str
    domain: Domain
    effective: str
    parameters: Parameters
    thresholds: dict[str, Threshold]
    opinion: OpinionRule
    text: str

    def threshold(self, test: str) -> Threshold | None:
        """The threshold of `test`; `fairness.impact_ratio[sex]` reads `fairness.impact_ratio`."""
        return self.thresholds.get(test.split("[", 1)[0])


def parse_policy(text: str, *, source: str) -> ValidationPolicy:
    """A policy from YAML text; errors name `source` and each offending field."""
    parsed = parse_document(_PolicyFile, text, source=source, rule="validation_policy.file_valid")
    digest = sha256_hex(text)
    p = parsed.parameters
    for name, edges in [("default_bands", p.default_bands),
                        *((f"bands.{k}", v) for k, v in p.bands.items())]:
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise InvalidInputError(source, f"parameters.{name}: {edges} must increase "
                                    "strictly", rule="validation_policy.file_valid")
    wrong = {f: d for f, d in p.monotone.items() if d not in (-1, 1)}
    if wrong:
        raise InvalidInputError(source, f"parameters.monotone: {wrong}: a direction is +1 or "
                                "-1", rule="validation_policy.file_valid")
    return ValidationPolicy(
        policy_id=parsed.policy, version=f"{parsed.version}+{digest[:12]}", sha256=digest,
        domain=parsed.domain, effective=parsed.effective,
        parameters=Parameters(
            master_scale=tuple(p.master_scale),
            pd_floor=None if p.pd_floor is None else PdFloor(**p.pd_floor.model_dump()),
            default_bands=tuple(p.default_bands),
            bands={k: tuple(v) for k, v in p.bands.items()}, monotone=dict(p.monotone),
            max_intersection=p.max_intersection, min_group_size=p.min_group_size,
            bootstrap_samples=p.bootstrap_samples, sensitivity_delta=p.sensitivity_delta,
            soundness_rows=p.soundness_rows, explain_rows=p.explain_rows,
            alert_budget=p.alert_budget, top_k=p.top_k, seed=p.seed),
        thresholds={test: Threshold(test=test, statistic=t.statistic, better=t.better,
                                    green=t.green, amber=t.amber, tag=t.tag, source=t.source,
                                    material=t.material, significance=None
                                    if t.significance is None else
                                    SignificanceRule(**t.significance.model_dump()))
                    for test, t in parsed.thresholds.items()},
        opinion=OpinionRule(**parsed.opinion.model_dump()), text=text)


def load_policy(path: Path) -> ValidationPolicy:
    """A policy file; an error names the file and the field."""
    if not path.is_file():
        raise InvalidInputError(str(path), "does not exist; give a validation policy YAML "
                                "file", rule="validation_policy.file_valid")
    return parse_policy(path.read_text(encoding="utf-8"), source=str(path))


def default_policy(domain: Domain) -> ValidationPolicy:
    """The policy bankml ships for `domain` (other scoring models take propensity's)."""
    return load_policy(DEFAULTS / f"{profile(domain).validation_policy}.yaml")
