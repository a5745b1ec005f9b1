"""Closing the loop from the CLI: `bankml monitor run --data` on drifted traffic retrains the
model on the fresh file and deploys it in shadow; `bankml monitor retrainings` lists the
steps and `bankml rollout status` shows both routes side by side with the recommendation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Role
from bankml.monitoring.policy import DEFAULT
from support.cli import bankml
from support.people import staff, with_tokens
from support.retraining import drifted, file_spec
from support.served import credit_endpoint, credit_in_prod

pytestmark = pytest.mark.slow


def test_monitor_run_retrains_and_the_cli_shows_each_step(tmp_path: Path) -> None:
    """One run: a retraining deployed in shadow (version 2, a self-test by the automation);
    the listing names it and the rollout's status shows the routes and `inconclusive`."""
    spec, fresh = file_spec(tmp_path, tier=3)
    home = tmp_path / "home"
    with Platform.open(home) as platform:
        champion = credit_in_prod(platform, spec)
        credit_endpoint(platform)
        requests = drifted(champion)
        for start in range(0, len(requests), 200):
            platform.decisions.decide(staff(platform, "ops"), "credit-pd",
                                      requests[start:start + 200])
        tokens = with_tokens(platform, {"mira": (Role.MODEL_RISK,)})
    policy = tmp_path / "monitoring.yaml"
    policy.write_text(DEFAULT.read_text().replace(
        "retraining: {}", "retraining: {german-credit-pd: {when: [drift, performance]}}"))
    as_of = utc_timestamp(datetime.now(UTC) + timedelta(days=1))

    ran = bankml("monitor", "run", "--endpoint", "credit-pd", "--as-of", as_of, "--policy",
                 str(policy), "--data", str(fresh), "--home", str(home), token=tokens["mira"])
    listed = bankml("monitor", "retrainings", "--home", str(home), token=tokens["mira"])
    shown = bankml("rollout", "status", "credit-pd", "--home", str(home), token=tokens["mira"])

    assert ran.returncode == 0, ran.stderr
    assert listed.returncode == 0, listed.stderr
    assert "deployed" in listed.stdout
    assert "german-credit-pd@2" in listed.stdout
    assert shown.returncode == 0, shown.stderr
    assert "german-credit-pd@2 against german-credit-pd@1" in shown.stdout
    assert "challenger" in shown.stdout
    assert "recommendation: inconclusive" in shown.stdout
