"""Fairness in production on a real endpoint: a protected attribute supplied with each
decision (never scored) gives each group's selection rate and an adverse-impact ratio that
turns red for the disadvantaged group and is not judged for a group too small."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bankml import Platform
from bankml.core.decisions import PolicyKind
from bankml.core.endpoints import Endpoint
from bankml.core.monitoring import Status
from bankml.core.registry import Stage
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import staff


def test_a_disadvantaged_group_is_red_and_a_small_one_insufficient(tmp_path: Path) -> None:
    """Group a is approved 100 of 100, b 50 of 100 (AIR 0.5: red), c has 10 decisions
    (below the minimum group size: insufficient); decisions without the attribute are
    counted, not grouped."""
    with Platform.open(tmp_path / "home") as platform:
        ops = staff(platform, "ops")
        version = register_tiny(platform, staff(platform, "dev"))
        move_to(platform, version.ref, Stage.STAGING, Stage.PROD)
        platform.registry.set_alias(ops, version.name, "champion", version.number)
        platform.endpoints.apply(ops, Endpoint(
            name="loans", model=version.name, entity=("customer_id",),
            policy_kind=PolicyKind.APPROVE_REFER_DECLINE,
            cutoffs={"approve_below": 0.2, "decline_from": 0.8},
            monitoring_attributes=("group",)))
        requests = ([{"group": "a", "x0": -3.0}] * 100
                    + [{"group": "b", "x0": -3.0 if i % 2 else 3.0} for i in range(100)]
                    + [{"group": "c", "x0": 3.0}] * 10 + [{"x0": -3.0}] * 5)
        for start in range(0, len(requests), 100):
            platform.decisions.decide(ops, "loans", [
                {"customer_id": f"c{start + i}", **r}
                for i, r in enumerate(requests[start:start + 100])])
        mira = staff(platform, "mira")

        [run] = platform.monitor.run(mira, endpoint="loans",
                                     as_of=datetime.now(UTC) + timedelta(days=1))
        points = {p.metric: p for p in platform.monitor.points(mira, run.run_id)}

    assert points["fairness.selection_rate[group=b]"].value == 0.5
    assert points["fairness.reported[group]"].value == 210 / 215
    b = points["fairness.impact_ratio[group=b]"]
    assert (b.value, b.status, b.baseline) == (0.5, Status.RED, 1.0)
    assert "against group=a" in b.detail
    assert points["fairness.impact_ratio[group=a]"].status == Status.GREEN
    assert points["fairness.impact_ratio[group=c]"].status == Status.INSUFFICIENT
