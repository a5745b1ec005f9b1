"""What the feature store's use cases return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bankml.core.features import ResolvedFeature


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyResult:
    """What applying one definition did: a new version, or none because it is unchanged."""

    name: str
    number: int
    digest: str
    created: bool

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OnlineFeatures:
    """Feature values per entity row; `found[i][view]` is False for an unknown entity."""

    rows: list[dict[str, Any]]
    found: list[dict[str, bool]]

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        frame["found"] = [all(flags.values()) for flags in self.found]
        return frame


@dataclass(frozen=True, slots=True, kw_only=True)
class MaterializeResult:
    view: str  # name@number
    entities: int
    start: str | None
    end: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    entity: str
    feature: str
    offline: Any
    online: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class SkewReport:
    """Offline and online values of a sample of entities at one time, and where they differ."""

    view: str
    at: str
    entities: int
    features: list[str]
    mismatches: list[Mismatch] = field(default_factory=list)

    def by_feature(self) -> dict[str, int]:
        counts = dict.fromkeys(self.features, 0)
        for mismatch in self.mismatches:
            counts[mismatch.feature] += 1
        return counts


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingSet:
    """A training frame, stored, with the exact feature versions and profiles behind it."""

    frame: pd.DataFrame
    dataset_sha256: str
    profile_sha256: str
    profile: dict[str, Any]
    features: list[ResolvedFeature]
