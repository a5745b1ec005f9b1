"""`bankml train` and `bankml models` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bankml.core.identity import Role
from support.cli import bankml

TokenFor = Callable[[Path, Role], str]  # the token_for fixture (tests/e2e/conftest.py)

SPEC = Path(__file__).parents[2] / "examples" / "german_credit_pd.yaml"



@pytest.fixture(scope="module")
def engineer(tmp_path_factory: pytest.TempPathFactory, token_for: TokenFor) -> tuple[Path, str]:
    """A home and the token of an ML engineer in it."""
    home = tmp_path_factory.mktemp("registry") / ".bankml"
    return home, token_for(home, Role.ML_ENGINEER)


@pytest.fixture(scope="module")
def trained(engineer: tuple[Path, str]) -> Path:
    home, token = engineer
    result = bankml("train", str(SPEC), "--home", str(home), token=token)
    assert result.returncode == 0, result.stderr
    assert "Registered german-credit-pd@1 (dev)" in result.stdout
    return home


def test_reproduce_says_identical(trained: Path, engineer: tuple[Path, str]) -> None:
    """`models reproduce` rebuilds the version and says identical, exit 0."""
    result = bankml("models", "reproduce", "german-credit-pd@1", "--home", str(trained),
                    token=engineer[1])

    assert result.returncode == 0, result.stderr
    assert "german-credit-pd@1: identical" in result.stdout


def test_reproduce_names_a_changed_input(trained: Path, tmp_path: Path,
                                        engineer: tuple[Path, str]) -> None:
    """Reproducing from a changed spec exits 1 and names the field that changed."""
    changed = tmp_path / "spec.yaml"
    changed.write_text(SPEC.read_text().replace("seed: 7", "seed: 8"))

    result = bankml("models", "reproduce", "german-credit-pd@1", "--spec", str(changed),
                    "--home", str(trained), token=engineer[1])

    assert result.returncode == 1
    assert "spec.seed: recorded 7, now 8" in result.stderr


def test_forbidden_transition_names_the_rule(trained: Path,
                                             engineer: tuple[Path, str]) -> None:
    """dev -> prod is refused with the allowed moves and the rule."""
    result = bankml("models", "transition", "german-credit-pd@1", "prod", "--home",
                    str(trained), token=engineer[1])

    assert result.returncode == 1
    assert "cannot move from dev to prod. Allowed next: archived, staging." in result.stderr
    assert "rule: lifecycle.transition" in result.stderr


def test_card_is_written_as_markdown_and_html(trained: Path) -> None:
    """`models card` writes both forms into the home and prints where."""
    result = bankml("models", "card", "german-credit-pd@1", "--home", str(trained))

    assert result.returncode == 0, result.stderr
    markdown = (trained / "cards" / "german-credit-pd@1.md").read_text()
    assert "## Limitations" in markdown
    assert "<table>" in (trained / "cards" / "german-credit-pd@1.html").read_text()


def test_list_keeps_names_and_digests_whole_at_80_columns(trained: Path) -> None:
    """On an 80-column terminal the version's NAME@V and artifact prefix are never cut
    into an ellipsis or wrapped: both can be copied from the table as printed."""
    result = bankml("models", "list", "--home", str(trained), env={"COLUMNS": "80"})
    shown = json.loads(bankml("models", "list", "--format", "json", "--home",
                              str(trained)).stdout)

    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "german-credit-pd@1" in result.stdout
    assert shown[0]["artifact_sha256"][:12] in result.stdout
    assert "\u2026" not in result.stdout


def test_list_as_json_gives_each_version_whole(trained: Path) -> None:
    """`models list --format json` lists every version with its stage, digest and metrics."""
    result = bankml("models", "list", "--format", "json", "--home", str(trained))

    assert result.returncode == 0, result.stderr
    [version] = json.loads(result.stdout)
    assert (version["ref"], version["model"], version["version"], version["stage"]) == (
        "german-credit-pd@1", "german-credit-pd", 1, "dev")
    assert len(version["artifact_sha256"]) == 64
    assert 0.5 < version["metrics"]["test.auc"] < 1


def test_show_prints_the_version_with_its_manifest(trained: Path) -> None:
    """`models show` prints the version's JSON view: model, signature, the typed manifest."""
    result = bankml("models", "show", "german-credit-pd@1", "--home", str(trained))

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert set(shown) == {"ref", "stage", "aliases", "model", "artifact_sha256", "flavour",
                          "created_at", "created_by", "signature", "metrics",
                          "feature_views", "dataset_sha256", "tags", "manifest"}
    assert (shown["ref"], shown["model"]["name"]) == ("german-credit-pd@1", "german-credit-pd")
    assert shown["manifest"]["schema_version"] == 2
    assert shown["manifest"]["seeds"] == {"seed": 7}
    assert shown["manifest"]["dataset_sha256"] == shown["dataset_sha256"]


def test_lineage_names_dataset_snapshot_and_spec(trained: Path) -> None:
    """`models lineage` prints where the version came from, from its manifest."""
    result = bankml("models", "lineage", "german-credit-pd@1", "--home", str(trained))

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["data_source"]["dataset"] == "german_credit"
    assert len(shown["dataset_snapshot_sha256"]) == 64
    assert len(shown["spec_sha256"]) == 64


def test_bad_spec_names_line_and_field(tmp_path: Path, token_for: TokenFor) -> None:
    """A misspelt field stops `bankml train` with its line, field and rule."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text().replace("risk_tier: 2", "risk_teir: 2"))

    home = tmp_path / "home"
    result = bankml("train", str(spec), "--home", str(home),
                    token=token_for(home, Role.DATA_SCIENTIST))

    assert result.returncode == 1
    assert "line 7, model.risk_teir: is not a field here (misspelt?)" in result.stderr
    assert "rule: pipeline.spec" in result.stderr
