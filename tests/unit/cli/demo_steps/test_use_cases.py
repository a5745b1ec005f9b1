"""--quick validates each use case under a copy of its domain's shipped policy: the same
thresholds and opinion rule, fewer bootstrap samples and rows, a name of its own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bankml.cli.demo_steps.use_cases import quick_policy
from bankml.validation.policy import DEFAULTS, load_policy, parse_policy


@pytest.mark.parametrize("shipped", sorted(DEFAULTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_quick_policy_is_the_shipped_one_on_fewer_samples(shipped: Path) -> None:
    full = load_policy(shipped)
    quick = parse_policy(yaml.safe_dump(quick_policy(shipped), sort_keys=False),
                         source="quick")
    drawn = quick.parameters

    assert quick.policy_id == f"{full.policy_id}-quick"
    assert (drawn.bootstrap_samples, drawn.soundness_rows, drawn.explain_rows) == (200, 100, 100)
    assert replace(drawn, bootstrap_samples=full.parameters.bootstrap_samples,
                   soundness_rows=full.parameters.soundness_rows,
                   explain_rows=full.parameters.explain_rows) == full.parameters
    assert (quick.thresholds, quick.opinion, quick.domain, quick.effective) == (
        full.thresholds, full.opinion, full.domain, full.effective)
    assert quick.version.split("+")[0] == full.version.split("+")[0]


def test_a_policy_without_a_parameter_quick_sets_is_refused(tmp_path: Path) -> None:
    """A shipped file that changed shape stops --quick, rather than being run unchanged."""
    text = (DEFAULTS / "credit.yaml").read_text(encoding="utf-8")
    without = text.replace("  soundness_rows: 500\n", "")
    assert without != text
    shipped = tmp_path / "credit.yaml"
    shipped.write_text(without, encoding="utf-8")

    with pytest.raises(KeyError, match=r"parameters\.soundness_rows"):
        quick_policy(shipped)
