"""The pipeline spec: valid examples load; every mistake is named with its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import SpecError
from bankml.training.spec import load_spec, parse_spec

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"
BASE = (EXAMPLES / "german_credit_pd.yaml").read_text()


def parse(text: str) -> object:
    return parse_spec(text, source="spec.yaml", folder=Path())


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(("name", "model"), [
    ("german_credit_pd.yaml", "german-credit-pd"),
    ("german_credit_pd_lightgbm.yaml", "german-credit-pd-gbm"),
    ("card_fraud.yaml", "card-fraud")])
def test_examples_are_valid(name: str, model: str) -> None:
    """The shipped example specs load."""
    assert load_spec(EXAMPLES / name).spec.model.name == model


def test_spec_without_value_column_keeps_its_digest() -> None:
    """`source.value` is left out of the digested form when absent, and counts when given."""
    plain = parse(BASE).spec  # type: ignore[attr-defined]
    valued = parse(BASE.replace("  label: default\n",
                                "  label: default\n  value: credit_amount\n")).spec  # type: ignore[attr-defined]

    assert "value" not in plain.described()["source"]
    assert valued.described()["source"]["value"] == "credit_amount"
    assert valued.digest() != plain.digest()


def test_digest_ignores_comments_and_layout() -> None:
    """Two texts of the same spec share one digest."""
    reformatted = BASE.replace("# or path:", "# another comment:").replace("seed: 7",
                                                                          "seed:    7")

    assert parse(reformatted).spec.digest() == parse(BASE).spec.digest()  # type: ignore[attr-defined]


def test_misspelt_field_is_named_with_its_line() -> None:
    """An unknown key names its line and path."""
    text = BASE.replace("  params: {C: 0.5", "  parms: {C: 0.5")

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'parms')}, estimator.parms: "
                                        r"is not a field here"):
        parse(text)


def test_missing_field_is_named() -> None:
    """A required field that is absent is named under its parent's line."""
    text = BASE.replace("  label: default\n", "")

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'source:')}, source.label: "
                                        "is required"):
        parse(text)


def test_wrong_value_is_named_with_its_line() -> None:
    """A value of the wrong kind names its line, field and the rule."""
    text = BASE.replace("risk_tier: 2", "risk_tier: 5")

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'risk_tier')}, "
                                        r"model.risk_tier: .*less than or equal to 3"):
        parse(text)


def test_label_among_the_inputs_is_refused() -> None:
    """The label listed as an input is named as a leak."""
    text = BASE.replace("  - telephone\n", "  - telephone\n  - default\n")

    with pytest.raises(SpecError, match=rf"line {line_of(text, '  - default')}, inputs.17: "
                                        "'default' is the label") as caught:
        parse(text)
    assert caught.value.rule == "pipeline.label_leak"


def test_protected_attribute_among_the_inputs_is_refused() -> None:
    """A protected attribute may be tested for fairness, never used as an input."""
    text = BASE.replace("  - telephone\n", "  - telephone\n  - age_years\n")

    with pytest.raises(SpecError, match="'age_years' is a protected attribute"):
        parse(text)


def test_inputs_and_features_together_are_accepted() -> None:
    """Request columns and feature refs together: the model's inputs are both."""
    text = BASE.replace("split:\n", "features: [customer:income]\n\nsplit:\n")

    spec = parse(text).spec  # type: ignore[attr-defined]

    assert spec.features == ["customer:income"]
    assert spec.input_columns


def test_an_input_named_by_both_is_refused() -> None:
    """A feature ref may not name an input that `inputs:` lists already."""
    text = BASE.replace("split:\n", "features: [customer:duration_months]\n\nsplit:\n")

    with pytest.raises(SpecError, match=r"features.0: 'customer:duration_months' names the "
                                        r"input 'duration_months' that `inputs:` lists") as raised:
        parse(text)
    assert raised.value.rule == "pipeline.input_once"


def test_a_spec_without_inputs_is_refused() -> None:
    start, end = BASE.index("inputs:"), BASE.index("split:")

    with pytest.raises(SpecError, match="give the model's inputs as `inputs:`"):
        parse(BASE[:start] + BASE[end:])


def test_bad_feature_ref_is_named() -> None:
    """A feature ref without view:feature is named with its line."""
    start = BASE.index("inputs:")
    end = BASE.index("split:")
    text = BASE[:start] + "features:\n  - customer_income\n\n" + BASE[end:]

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'customer_income')}, "
                                        r"features.0: 'customer_income' is not a feature ref"):
        parse(text)


def test_protected_attribute_among_the_features_is_refused() -> None:
    """A feature ref naming a protected attribute is refused at its line, before any data."""
    start = BASE.index("inputs:")
    end = BASE.index("split:")
    text = BASE[:start] + "features:\n  - customer:income\n  - customer:age_years\n\n" + BASE[end:]

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'customer:age_years')}, "
                                        r"features.1: 'customer:age_years' is a protected "
                                        "attribute") as caught:
        parse(text)
    assert caught.value.rule == "registry.protected_not_input"


def test_sklearn_estimator_needs_its_class() -> None:
    """kind sklearn without an import path is refused."""
    text = BASE.replace("kind: logistic_regression", "kind: sklearn")

    with pytest.raises(SpecError, match=r"estimator: `class` .* goes with kind `sklearn`"):
        parse(text)


def test_policy_must_fit_the_domain() -> None:
    """A credit model decides approve/refer/decline, not block/allow."""
    text = BASE.replace("kind: approve_refer_decline\n  approve_below: 0.15\n  "
                        "decline_from: 0.45", "kind: block_allow\n  block_from: 0.5")

    with pytest.raises(SpecError, match=r"decision_policy.kind: a credit model decides with "
                                        "kind approve_refer_decline"):
        parse(text)


def test_policy_cutoffs_must_be_ordered() -> None:
    """approve_below above decline_from is refused."""
    text = BASE.replace("approve_below: 0.15", "approve_below: 0.6")

    with pytest.raises(SpecError, match=r"approve_below \(0.6\) <= decline_from \(0.45\)"):
        parse(text)


def test_broken_yaml_names_its_line() -> None:
    """YAML that does not parse names the line where it breaks."""
    text = BASE.replace("  label: default", "  label: [default")

    with pytest.raises(SpecError, match="line [0-9]+: not valid YAML"):
        parse(text)


def test_every_problem_is_listed_at_once() -> None:
    """Several mistakes are reported together, one per line of the message."""
    text = BASE.replace("risk_tier: 2", "risk_tier: 0").replace("share: 0.2", "share: 2")

    with pytest.raises(SpecError) as caught:
        parse(text)
    assert len(caught.value.problems) == 2


def test_a_misspelt_key_of_a_protected_attribute_is_named() -> None:
    """`band:` for `bands:` is an error with its line, not a declaration skipped."""
    text = BASE.replace("{name: age_years, bands:", "{name: age_years, band:")

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'band:')}, "
                       r"model.protected_attributes.0.band: is not a field here") as caught:
        parse(text)
    assert caught.value.rule == "pipeline.spec"


def test_a_monotone_direction_for_no_input_is_refused() -> None:
    """A direction declared for a column the model does not take names the column."""
    text = BASE.replace("monotone: {duration_months: 1}", "monotone: {duration_month: 1}")

    with pytest.raises(SpecError, match=r"model.monotone.duration_month: 'duration_month' is "
                       r"not an input of the model") as caught:
        parse(text)
    assert caught.value.rule == "pipeline.column_known"


@pytest.mark.parametrize(("declaration", "message"), [
    ("{name: age_years, bands: [35, 25]}", r"bands \[35.0, 25.0\] must increase strictly"),
    ("{name: sex, labels: {1: male, 2: female}, reference: man}",
     r"reference 'man' is none of the labels \['female', 'male'\]"),
    ("{name: sex, labels: {1: male}, bands: [1]}", r"not both"),
    ("{name: sex, refrence: male}", r"refrence: is not a field here")])
def test_a_protected_attribute_declaration_is_checked(declaration: str, message: str) -> None:
    """Bands increase, a reference is one of the labels, bands and labels exclude each
    other, and unknown keys are refused."""
    text = BASE.replace("{name: age_years, bands: [25, 35, 50, 65]}", declaration)

    with pytest.raises(SpecError, match=message):
        parse(text)


def test_direction_of_an_effect_is_plus_or_minus_one() -> None:
    """A direction of 2 is refused: +1 raises the score, -1 lowers it."""
    with pytest.raises(SpecError, match=r"model.monotone.duration_months"):
        parse(BASE.replace("monotone: {duration_months: 1}", "monotone: {duration_months: 2}"))


def test_labels_declared_with_number_keys_read_as_text() -> None:
    """`{1: male, 2: female}` matches stored values 1 and 2 as text."""
    text = BASE.replace("{name: sex, reference: male}",
                        "{name: sex, labels: {1: male, 2: female}, reference: male}")
    [_, sex, *_] = parse(text).spec.model.protected  # type: ignore[attr-defined]

    assert sex.labels == {"1": "male", "2": "female"}


def test_woe_edges_for_no_input_are_refused() -> None:
    """Cut points set by hand name an input of the model."""
    text = BASE.replace("preprocessing:\n", "preprocessing:\n  woe_binning: "
                        "{edges: {duration_month: [12, 24]}}\n")

    with pytest.raises(SpecError, match=r"preprocessing.woe_binning.edges.duration_month: "
                       r"'duration_month' is not an input") as caught:
        parse(text)
    assert caught.value.rule == "pipeline.column_known"


def test_a_woe_spec_with_the_defaults_keeps_its_digest() -> None:
    """`woe_binning: {bins: 4}` digests as it did before methods and edges existed."""
    text = BASE.replace("preprocessing:\n", "preprocessing:\n  woe_binning: {bins: 4}\n")

    described = parse(text).spec.described()  # type: ignore[attr-defined]

    assert described["preprocessing"]["woe_binning"] == {"bins": 4}
