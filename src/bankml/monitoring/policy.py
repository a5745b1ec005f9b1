"""Monitoring policies as data: thresholds with provenance, windows, label maturity.

A policy is a YAML file (bankml ships `policies/default.yaml`); its version is the
declared version plus the first 12 hex digits of the sha256 of its text, stored with every
run. A metric named `feature.psi[income]` reads the threshold `feature.psi`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bankml.core.canonical import sha256_hex
from bankml.core.errors import InvalidInputError
from bankml.core.monitoring import MetricThreshold
from bankml.core.retraining import Trigger
from bankml.core.validation import Better, Tag
from bankml.documents import parse_document

DEFAULT = Path(__file__).parent / "policies" / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Threshold(_Strict):
    better: Better
    green: float
    amber: float
    tag: Tag
    source: str = Field(min_length=1)
    min_n: int = Field(default=0, ge=0)
    significance: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> _Threshold:
        if (self.green < self.amber) if self.better == Better.HIGHER else \
                (self.green > self.amber):
            raise ValueError(f"green {self.green} is beyond amber {self.amber}: with "
                             f"better={self.better} green must be the stricter bound")
        return self


class _Kpis(_Strict):
    """What an endpoint's business KPIs need beyond the decision: loss given default, and
    which request field or input is the exposure (credit) or the amount (fraud)."""

    lgd: float | None = Field(default=None, ge=0, le=1)
    ead_field: str | None = Field(default=None, min_length=1)
    value_field: str | None = Field(default=None, min_length=1)


class _Parameters(_Strict):
    window_days: int = Field(default=7, ge=1, le=366)
    psi_bins: int = Field(default=10, ge=2, le=100)
    maturity_days: dict[str, int] = Field(default_factory=dict)
    fairness_bootstrap: int = Field(default=500, ge=0, le=100_000)
    fairness_confidence: float = Field(default=0.95, gt=0, lt=1)
    kpis: dict[str, _Kpis] = Field(default_factory=dict)


class _Retraining(_Strict):
    """A model whose red drift or performance alert starts its own pipeline on fresh data
    (the source its spec declares, or `data`), then deploys the new version in shadow."""

    when: list[Trigger] = Field(min_length=1)  # not `on`: YAML 1.1 reads it as true
    data: str | None = Field(default=None, min_length=1)
    shadow_share: float = Field(default=100.0, gt=0, le=100)
    min_decisions: int = Field(default=500, ge=0)
    min_duration_s: float = Field(default=3600.0, ge=0)


class _PolicyFile(_Strict):
    policy: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    parameters: _Parameters = Field(default_factory=_Parameters)
    thresholds: dict[str, _Threshold]
    retraining: dict[str, _Retraining] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrainingPolicy:
    """What a model's red alert may start (see `_Retraining`)."""

    when: frozenset[Trigger]
    data: Path | None = None
    shadow_share: float = 100.0
    min_decisions: int = 500
    min_duration_s: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class KpiInputs:
    lgd: float | None = None
    ead_field: str | None = None
    value_field: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitoringPolicy:
    policy_id: str
    version: str
    sha256: str
    effective: str
    window_days: int
    psi_bins: int
    maturity_days: dict[str, int] = field(default_factory=dict)
    thresholds: dict[str, MetricThreshold] = field(default_factory=dict)
    fairness_bootstrap: int = 500
    fairness_confidence: float = 0.95
    kpis: dict[str, KpiInputs] = field(default_factory=dict)
    retraining: dict[str, RetrainingPolicy] = field(default_factory=dict)  # by model name

    def kpi_inputs(self, endpoint: str) -> KpiInputs:
        return self.kpis.get(endpoint, KpiInputs())

    def threshold(self, metric: str) -> MetricThreshold | None:
        return self.thresholds.get(metric.split("[", 1)[0])


def parse_policy(text: str, *, source: str, folder: Path | None = None) -> MonitoringPolicy:
    """A policy from YAML text; errors name `source` and each offending field. A
    retraining's relative `data` path is read from `folder` (the policy file's)."""
    parsed = parse_document(_PolicyFile, text, source=source, rule="monitoring_policy.file_valid")
    digest = sha256_hex(text)
    p = parsed.parameters
    return MonitoringPolicy(
        policy_id=parsed.policy, version=f"{parsed.version}+{digest[:12]}", sha256=digest,
        effective=parsed.effective, window_days=p.window_days, psi_bins=p.psi_bins,
        maturity_days=dict(p.maturity_days), fairness_bootstrap=p.fairness_bootstrap,
        fairness_confidence=p.fairness_confidence,
        kpis={name: KpiInputs(**k.model_dump()) for name, k in p.kpis.items()},
        thresholds={name: MetricThreshold(metric=name, **t.model_dump())
                    for name, t in parsed.thresholds.items()},
        retraining={model: RetrainingPolicy(
            when=frozenset(r.when), data=None if r.data is None else (folder or Path()) / r.data,
            shadow_share=r.shadow_share, min_decisions=r.min_decisions,
            min_duration_s=r.min_duration_s) for model, r in parsed.retraining.items()})


def load_policy(path: Path | None = None) -> MonitoringPolicy:
    """A policy file (default: the one bankml ships)."""
    chosen = path or DEFAULT
    if not chosen.is_file():
        raise InvalidInputError(str(chosen), "does not exist; give a monitoring policy YAML "
                                "file", rule="monitoring_policy.file_valid")
    return parse_policy(chosen.read_text(encoding="utf-8"), source=str(chosen),
                        folder=chosen.parent)
