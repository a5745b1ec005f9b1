"""`bankml validate` and `bankml report validation` as a validator runs them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bankml.core.identity import Role
from support.cli import bankml

TokenFor = Callable[[Path, Role], str]  # the token_for fixture (tests/e2e/conftest.py)

SPEC = Path(__file__).parents[2] / "examples" / "german_credit_pd.yaml"



@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, token_for: TokenFor) -> Path:
    home = tmp_path_factory.mktemp("validate") / ".bankml"
    result = bankml("train", str(SPEC), "--home", str(home),
                    token=token_for(home, Role.DATA_SCIENTIST))
    assert result.returncode == 0, result.stderr
    return home


def test_validator_validates_signs_off_and_reports(trained: Path, token_for: TokenFor) -> None:
    """Validate with sign-off, then write the report: opinion, sign-off and both files."""
    token = token_for(trained, Role.VALIDATOR)
    validated = bankml("validate", "german-credit-pd@1", "--home", str(trained), "--sign-off",
                       "--passed", "--summary", "fit for use", token=token)
    assert validated.returncode == 0, validated.stderr
    assert "Opinion: 2 - adequate, minor deficiencies" in validated.stdout
    assert "fairness.impact_ratio[sex]" in validated.stdout
    assert "Signed off: german-credit-pd@1 passed" in validated.stdout

    reported = bankml("report", "validation", "german-credit-pd@1", "--home", str(trained),
                      token=token)
    assert reported.returncode == 0, reported.stderr
    html = next((trained / "reports").glob("validation-german-credit-pd-1-*.html"))
    assert "adequate, minor deficiencies" in html.read_text()
    assert html.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


def test_data_scientist_cannot_validate(trained: Path, token_for: TokenFor) -> None:
    """Running the validation is the validator's; others are refused with the rule."""
    result = bankml("validate", "german-credit-pd@1", "--home", str(trained),
                    token=token_for(trained, Role.DATA_SCIENTIST))
    assert result.returncode == 1
    assert "rule: auth.role_grants" in result.stderr


def test_sign_off_needs_a_conclusion(trained: Path, token_for: TokenFor) -> None:
    """--sign-off without --passed/--failed is refused before anything runs."""
    result = bankml("validate", "german-credit-pd@1", "--home", str(trained), "--sign-off",
                    token=token_for(trained, Role.VALIDATOR))
    assert result.returncode == 1
    assert "--sign-off needs your conclusion" in result.stderr


def test_a_passing_signoff_rests_on_the_validators_run(trained: Path,
                                                       token_for: TokenFor) -> None:
    """`governance signoff --passed` without a run is refused with the rule; with the
    validator's run it is recorded with that run's fairness verdict. No flag states
    fairness."""
    token = token_for(trained, Role.VALIDATOR)
    home = ["--home", str(trained)]
    unfounded = bankml("governance", "signoff", "german-credit-pd@1", "--passed",
                       "--summary", "fine", *home, token=token)
    flagged = bankml("governance", "signoff", "german-credit-pd@1", "--passed",
                     "--fairness-passed", "--summary", "fine", *home, token=token)
    validated = bankml("validate", "german-credit-pd@1", *home, token=token)
    found = re.search(r"Run ([0-9a-f]{16}) of german-credit-pd@1", validated.stdout)
    assert found is not None, validated.stdout
    fairness = "passed" if "fairness passed." in validated.stdout else "failed"

    founded = bankml("governance", "signoff", "german-credit-pd@1", "--passed", "--run",
                     found.group(1), "--summary", "fine", *home, token=token)

    assert unfounded.returncode == 1
    assert "rule: validation.run_required" in unfounded.stderr
    assert flagged.returncode == 2
    assert "--fairness-passed" in flagged.stderr
    assert founded.returncode == 0, founded.stderr
    assert (f"german-credit-pd@1 validation passed (fairness {fairness}) by "
            in founded.stdout)
    assert f"resting on run {found.group(1)}" in founded.stdout


def test_data_is_refused_for_a_built_in_dataset(trained: Path, token_for: TokenFor) -> None:
    """`--data` names where a moved source file is now; a spec reading the built-in
    dataset has no file to move, and says so with the rule."""
    result = bankml("validate", "german-credit-pd@1", "--data", str(trained / "x.csv"),
                    "--home", str(trained), token=token_for(trained, Role.VALIDATOR))

    assert result.returncode == 1
    assert "the spec reads the built-in dataset 'german_credit'" in result.stderr
    assert "rule: pipeline.data_moved" in result.stderr
