"""`bankml demo --portfolio N`: N segment endpoints served by one `bankml serve` and
monitored over simulated weeks, checked from the stores afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml import Platform
from bankml.cli.demo_steps.portfolio import APP, WEEKS
from bankml.core.registry import Stage
from support.cli import bankml

pytestmark = [pytest.mark.slow, pytest.mark.heavy]
COUNT = 3


@pytest.fixture(scope="module")
def portfolio_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("portfolio") / ".bankml"
    result = bankml("demo", "--portfolio", str(COUNT), "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert f"bankml demo --portfolio {COUNT}: summary" in result.stdout
    return home


def test_each_endpoint_decides_with_its_own_approved_model(portfolio_home: Path) -> None:
    """N endpoints, each behind a different model whose champion is in prod with a
    passing sign-off and an approval."""
    with Platform.open(portfolio_home) as platform, platform.metadata.reading() as tx:
        endpoints = sorted({e.name for e in tx.endpoints.all()})
        models = [tx.endpoints.latest(name).endpoint.model for name in endpoints]
        champions = [platform.registry.get(f"{model}@champion") for model in models]
        signed = [tx.oversight.signoffs(c.name, c.number) for c in champions]

    assert len(endpoints) == COUNT
    assert len(set(models)) == COUNT
    assert all(c.stage == Stage.PROD for c in champions)
    assert all(found and found[-1].passed and found[-1].run_id for found in signed)


def test_one_serve_decided_on_every_endpoint_over_http(portfolio_home: Path) -> None:
    """The service account's decisions, made through `bankml serve`, reached every
    endpoint once."""
    with Platform.open(portfolio_home) as platform, platform.metadata.reading() as tx:
        live = [r.endpoint for r in tx.decisions.records() if r.requested_by == APP]

    assert sorted(live) == sorted(set(live))
    assert len(live) == COUNT


def test_every_endpoint_is_monitored_each_simulated_week(portfolio_home: Path) -> None:
    """One stored monitoring run per endpoint and week, each over that week's decisions,
    with performance on matured labels in the last week."""
    with Platform.open(portfolio_home) as platform, platform.metadata.reading() as tx:
        endpoints = sorted({e.name for e in tx.endpoints.all()})
        runs = {name: tx.monitoring.runs(name) for name in endpoints}
        last = {name: {p.metric: p for p in tx.monitoring.points(
            max(runs[name], key=lambda r: r.window_end).run_id)} for name in endpoints}

    assert all(len(found) == WEEKS for found in runs.values())
    assert all(run.decisions > 0 for found in runs.values() for run in found)
    assert all(points["performance.labelled"].value > 0 for points in last.values())
