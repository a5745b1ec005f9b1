"""Bands, labels, references and directions: the model's spec over the policy's defaults."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.registry import Domain
from bankml.training.spec import PipelineSpec, parse_spec
from bankml.validation.declarations import declarations_for
from bankml.validation.policy import DEFAULTS, default_policy, parse_policy

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"
BASE = (EXAMPLES / "german_credit_pd.yaml").read_text()
PROTECTED = pd.DataFrame({"AGE": [22, 30, 41, 58, 70, 25], "SEX": [1, 2, 2, 1, 1, 2.0]})
INPUTS = ["duration_months", "credit_amount"]


def spec(attributes: str, monotone: str = "") -> PipelineSpec:
    """The German example with `attributes` as its protected attributes."""
    text = BASE[:BASE.index("  protected_attributes:")] + f"  protected_attributes: {attributes}\n"
    text += monotone + BASE[BASE.index("\nsource:"):]
    return parse_spec(text, source="spec.yaml", folder=Path()).spec


def test_a_numeric_attribute_without_bands_gets_the_default_bands_and_a_warning() -> None:
    """Another bank's `AGE` is cut at the policy's default bands, not tested as one group per
    year, and the record says that the spec should band it."""
    declared = declarations_for(spec("[AGE]"), default_policy(Domain.CREDIT), inputs=INPUTS,
                                protected=PROTECTED[["AGE"]], model="m@1")

    assert declared.groups(PROTECTED[["AGE"]])["AGE"].tolist() == [
        "<25", "25-35", "35-50", "50-65", ">=65", "25-35"]
    assert declared.sources == {"bands[AGE]": "policy default"}
    [warning] = declared.warnings
    assert "AGE is numeric and its spec declares no bands" in warning


def test_the_specs_bands_labels_and_reference_are_used() -> None:
    """Declared bands cut AGE; coded SEX (read back as 1.0 and 2.0) is named by its labels;
    the declared reference names its group as the fairness tests do."""
    declared = declarations_for(
        spec("[{name: AGE, bands: [30, 60]}, "
             "{name: SEX, labels: {1: male, 2: female}, reference: female}]"),
        default_policy(Domain.CREDIT), inputs=INPUTS, protected=PROTECTED, model="m@1")

    groups = declared.groups(PROTECTED)
    assert groups["AGE"].tolist() == ["<30", "30-60", "30-60", "30-60", ">=60", "<30"]
    assert groups["SEX"].tolist() == ["male", "female", "female", "male", "male", "female"]
    assert declared.reference(["SEX"]) == "SEX=female"
    assert declared.reference(["SEX", "AGE"]) is None
    assert declared.warnings == ()


def test_the_specs_directions_override_the_policys() -> None:
    """A policy direction for an input applies unless the spec declares its own."""
    text = (DEFAULTS / "credit.yaml").read_text().replace(
        "  max_intersection:", "  monotone: {duration_months: -1, credit_amount: 1}\n"
        "  max_intersection:")
    policy = parse_policy(text, source="policy.yaml")
    declared = declarations_for(spec("[SEX]", "  monotone: {duration_months: 1}\n"), policy,
                                inputs=INPUTS, protected=PROTECTED[["SEX"]], model="m@1")

    assert declared.monotone == {"duration_months": 1, "credit_amount": 1}
    assert declared.sources["monotone[duration_months]"] == "spec"
    assert declared.sources["monotone[credit_amount]"] == "policy"


@pytest.mark.parametrize(("parameter", "message"), [
    ("  bands: {age_yeras: [30, 60]}\n",
     r"parameters.bands.age_yeras: 'age_yeras' is none of the protected attributes of m@1"),
    ("  monotone: {duration_month: 1}\n",
     r"parameters.monotone.duration_month: 'duration_month' is none of the inputs of m@1")])
def test_a_policy_naming_a_column_the_model_lacks_is_refused(parameter: str,
                                                            message: str) -> None:
    """A misspelt column in the policy's bands or directions is an error, not skipped."""
    text = (DEFAULTS / "credit.yaml").read_text().replace("  max_intersection:",
                                                          parameter + "  max_intersection:")
    policy = parse_policy(text, source="policy.yaml")

    with pytest.raises(InvalidInputError, match=message) as caught:
        declarations_for(spec("[AGE]"), policy, inputs=INPUTS, protected=PROTECTED[["AGE"]],
                         model="m@1")
    assert caught.value.rule == "validation_policy.column_known"


def test_bands_on_a_text_attribute_are_refused() -> None:
    """Text cannot be cut into number ranges: the field and the rule are named."""
    protected = pd.DataFrame({"REGION": ["north", "south"]})

    with pytest.raises(InvalidInputError, match=r"'REGION' holds text") as caught:
        declarations_for(spec("[{name: REGION, bands: [1, 2]}]"),
                         default_policy(Domain.CREDIT), inputs=INPUTS, protected=protected,
                         model="m@1")
    assert caught.value.rule == "fairness.bands_numeric"
    assert caught.value.field == "model.protected_attributes.0.bands"
