"""Business KPIs in a real run: the override rate comes from the decisions service's
overrides, and the policy judges it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bankml import Platform
from bankml.core.monitoring import Status
from support.people import staff
from support.served import tiny_endpoint


def test_the_override_rate_counts_overridden_decisions(tmp_path: Path) -> None:
    """Twelve of 120 decisions overridden (one of them twice): 0.10, amber under the
    default policy (green up to 0.05), and the refer rate is reported beside it."""
    with Platform.open(tmp_path / "home") as platform:
        endpoint = tiny_endpoint(platform)
        ops, bob = staff(platform, "ops"), staff(platform, "bob")
        records = platform.decisions.decide(ops, endpoint.name, [
            {"customer_id": f"c{i}", "x0": (-3.0, 0.0, 3.0)[i % 3]} for i in range(120)])
        for record in records[:12]:
            other = "approve" if record.outcome == "refer" else "refer"
            platform.decisions.override(bob, record.decision_id, outcome=other,
                                        reason_code="MANUAL", comment="second look")
        platform.decisions.override(bob, records[0].decision_id, outcome="decline",
                                    reason_code="MANUAL", comment="third look")
        mira = staff(platform, "mira")

        [run] = platform.monitor.run(mira, endpoint=endpoint.name,
                                     as_of=datetime.now(UTC) + timedelta(days=1))
        points = {p.metric: p for p in platform.monitor.points(mira, run.run_id)}

    override = points["kpi.override_rate"]
    assert (override.value, override.n, override.status) == (0.1, 120, Status.AMBER)
    assert points["kpi.refer_rate"].value is not None
