"""The model inventory (SR 11-7): every model, who answers for it, and what is overdue."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bankml.core.identity import Principal
from bankml.core.oversight import ValidationSignoff
from bankml.core.policy import TierPolicy
from bankml.core.registry import Model, ModelVersion, Stage
from bankml.governance.oversight import Oversight
from bankml.registry import Registry


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryRow:
    model: str
    domain: str
    tier: int
    owner: str
    developer: str
    validator: str | None  # of the latest validation
    status: str  # stage of the production version, else of the newest version
    production_version: str | None
    last_validation: date | None
    next_review_due: date | None  # None while nothing is in production or validated
    open_findings: int
    overdue_findings: int
    feature_views: tuple[str, ...]  # upstream: what the production (else newest) version reads
    endpoints: tuple[str, ...]  # downstream: serving endpoints (none until serving exists)
    as_of: date  # the day "overdue" is judged on

    @property
    def review_overdue(self) -> bool:
        return self.next_review_due is not None and self.next_review_due < self.as_of

    @property
    def is_overdue(self) -> bool:
        return self.review_overdue or self.overdue_findings > 0


def build_inventory(by: Principal, registry: Registry, oversight: Oversight,
                    policies: dict[int, TierPolicy], *,
                    today: date | None = None,
                    include_retired: bool = False) -> list[InventoryRow]:
    """One row per model, in name order; a retired model (every version archived, as a
    test model is once it has served its purpose) only with `include_retired`.

    The next review is due `review_months` (from the tier's policy) after the latest
    validation; a model in production that was never validated is due since it went live.
    """
    day = today or _today()
    rows = []
    for model in registry.models():
        versions = registry.versions(model.name)
        retired = all(v.stage == Stage.ARCHIVED for v in versions)
        if not versions or (retired and not include_retired):
            continue
        in_prod = next((v for v in versions if v.stage == Stage.PROD), None)
        shown = in_prod or versions[-1]
        signoffs = oversight.signoffs(by, model.name)
        open_findings = oversight.findings(by, model=model.name, open_only=True)
        rows.append(InventoryRow(
            model=model.name, domain=str(model.domain), tier=model.risk_tier,
            owner=model.owner, developer=model.developer,
            validator=signoffs[-1].validator if signoffs else None, status=str(shown.stage),
            production_version=in_prod.ref if in_prod else None,
            last_validation=_day(signoffs[-1].recorded_at) if signoffs else None,
            next_review_due=_next_review(model, signoffs, in_prod, registry,
                                         policies[model.risk_tier]),
            open_findings=len(open_findings),
            overdue_findings=sum(date.fromisoformat(f.due_date) < day for f in open_findings),
            feature_views=shown.feature_views, endpoints=(), as_of=day))
    return rows


def _next_review(model: Model, signoffs: list[ValidationSignoff], in_prod: ModelVersion | None,
                 registry: Registry, policy: TierPolicy) -> date | None:
    if signoffs:
        return _add_months(_day(signoffs[-1].recorded_at), policy.review_months)
    if in_prod is None:
        return None
    went_live = [c.changed_at for c in registry.history(model.name)
                 if c.number == in_prod.number and c.target == Stage.PROD]
    return _day(went_live[-1]) if went_live else _day(in_prod.created_at)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _day(timestamp: str) -> date:
    return date.fromisoformat(timestamp[:10])


def _today() -> date:
    return datetime.now(UTC).date()
