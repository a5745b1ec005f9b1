"""Reason-code catalogue validation and Regulation B adverse-reason selection."""

from __future__ import annotations

import textwrap

import pytest

from bankml.core.canonical import sha256_hex
from bankml.core.errors import InvalidInputError
from bankml.datasets import german_credit
from bankml.explain import ReasonCatalogue, adverse_reasons, example_catalogue_text, load_catalogue

INPUTS = ["debt", "enquiries", "income", "tenure"]
CATALOGUE = textwrap.dedent("""
    name: test-reasons
    reasons:
      - code: R01
        text: Too many recent credit enquiries
        features: [enquiries]
      - code: R02
        text: Debt is high relative to income
        features: [debt, income]
      - code: R03
        text: Time with us is too short
        features: [tenure]
        direction: low
      - code: R04
        text: Time at present address
        features: [tenure]
        direction: high
""")


def catalogue(text: str = CATALOGUE) -> ReasonCatalogue:
    return load_catalogue(text, inputs=INPUTS)


def test_reasons_are_ordered_by_adverse_push() -> None:
    """The reason with the largest push towards decline comes first."""
    reasons = adverse_reasons({"debt": 0.2, "income": 0.1, "enquiries": 0.5, "tenure": 0.05},
                              catalogue(), directions={"tenure": "low"})

    assert [r.code for r in reasons] == ["R01", "R02", "R03"]
    assert reasons[1].contribution == pytest.approx(0.3, abs=1e-12)
    assert reasons[0].text == "Too many recent credit enquiries"


def test_a_reason_sums_its_features() -> None:
    """A reason group's push is the sum of its inputs' contributions."""
    [reason] = adverse_reasons({"debt": 0.4, "income": -0.1, "enquiries": 0.0,
                                "tenure": -1.0}, catalogue(), directions={"tenure": "low"})

    assert reason.code == "R02"
    assert reason.contribution == pytest.approx(0.3, abs=1e-12)
    assert reason.features == ("debt", "income")


def test_favourable_and_neutral_reasons_are_never_listed() -> None:
    """Reasons whose push is zero or towards approval are left out, even below n."""
    reasons = adverse_reasons({"debt": -0.2, "income": 0.0, "enquiries": 0.0, "tenure": 0.3},
                              catalogue(), directions={"tenure": "high"})

    assert [r.code for r in reasons] == ["R04"]


def test_ties_are_broken_by_code() -> None:
    """Equal pushes are ordered by reason code, whatever the input order."""
    contributions = {"tenure": 0.25, "enquiries": 0.25, "income": 0.0, "debt": 0.25}

    reasons = adverse_reasons(contributions, catalogue(), directions={"tenure": "high"})

    assert [r.code for r in reasons] == ["R01", "R02", "R04"]


def test_at_most_n_reasons_are_disclosed() -> None:
    """`n` caps the list; the most adverse are kept."""
    reasons = adverse_reasons({"debt": 0.1, "income": 0.1, "enquiries": 0.5, "tenure": 0.3},
                              catalogue(), n=2, directions={"tenure": "low"})

    assert [r.code for r in reasons] == ["R01", "R03"]


def test_direction_selects_the_reason_text() -> None:
    """The same input gives a different reason when it is high rather than low."""
    contributions = {"debt": 0.0, "income": 0.0, "enquiries": 0.0, "tenure": 0.2}

    high = adverse_reasons(contributions, catalogue(), directions={"tenure": "high"})
    low = adverse_reasons(contributions, catalogue(), directions={"tenure": "low"})

    assert (high[0].code, low[0].code) == ("R04", "R03")


def test_a_directed_input_needs_its_direction() -> None:
    """Without a direction, an input split by direction cannot be mapped."""
    with pytest.raises(InvalidInputError, match=r"'tenure' has reasons by direction"):
        adverse_reasons({"debt": 0.1, "income": 0.1, "enquiries": 0.1, "tenure": 0.1},
                        catalogue())


def test_every_model_input_must_be_weighed() -> None:
    """Contributions missing an input are refused rather than silently ignored."""
    with pytest.raises(InvalidInputError, match=r"lack the model inputs \['income', 'tenure'\]"):
        adverse_reasons({"debt": 0.1, "enquiries": 0.2}, catalogue())


def test_contributions_of_unknown_inputs_are_refused() -> None:
    """A contribution for a feature the catalogue does not cover is an error."""
    with pytest.raises(InvalidInputError, match=r"'age' is not an input the catalogue"):
        adverse_reasons({"debt": 0.1, "income": 0.1, "enquiries": 0.1, "tenure": 0.1,
                         "age": 0.1}, catalogue(), directions={"tenure": "low"})


def test_zero_reasons_are_refused() -> None:
    """n must be at least one."""
    with pytest.raises(InvalidInputError, match=r"n: 0: disclose at least one reason"):
        adverse_reasons({}, catalogue(), n=0)


def test_the_catalogue_is_versioned_by_its_text() -> None:
    """The catalogue's version is the sha256 of its YAML text."""
    assert catalogue().sha256 == sha256_hex(CATALOGUE)
    assert catalogue().name == "test-reasons"


def test_a_missing_input_is_refused() -> None:
    """Every model input needs a reason."""
    with pytest.raises(InvalidInputError, match=r"model input 'enquiries' has no reason"):
        load_catalogue(CATALOGUE.replace("[enquiries]", "[debt]"), inputs=INPUTS)


def test_a_duplicate_code_is_refused() -> None:
    """Codes are stable identifiers; the second use is named."""
    with pytest.raises(InvalidInputError, match=r"reasons\[1\] \(R01\): code R01 is used"):
        catalogue(CATALOGUE.replace("code: R02", "code: R01"))


def test_an_empty_text_is_refused() -> None:
    """A reason without customer-readable text is refused, naming the entry."""
    with pytest.raises(InvalidInputError, match=r"reasons\[0\] \(R01\)\.text: is empty"):
        catalogue(CATALOGUE.replace("Too many recent credit enquiries", "'  '"))


def test_a_generic_text_is_refused() -> None:
    """'Internal standards' is not a specific reason under Regulation B."""
    with pytest.raises(InvalidInputError, match=r"R01\)\.text: .* is generic"):
        catalogue(CATALOGUE.replace("Too many recent credit enquiries",
                                    "Does not meet internal standards"))


def test_a_feature_the_model_lacks_is_refused() -> None:
    """Reasons may only describe scored inputs."""
    with pytest.raises(InvalidInputError, match=r"reasons\[1\] \(R02\)\.features: \['age'\]"):
        catalogue(CATALOGUE.replace("[debt, income]", "[debt, income, age]"))


def test_an_input_covered_twice_is_refused() -> None:
    """Each input maps to exactly one reason per direction."""
    with pytest.raises(InvalidInputError, match=r"'debt' has more than one reason .*R01, R02"):
        catalogue(CATALOGUE.replace("[enquiries]", "[enquiries, debt]"))


def test_a_direction_without_its_opposite_is_refused() -> None:
    """A directed input must have a reason for both directions."""
    text = CATALOGUE.replace("direction: high", "direction: low")
    with pytest.raises(InvalidInputError, match=r"'tenure' has no reason for direction high"):
        catalogue(text)


def test_a_schema_error_names_the_entry() -> None:
    """A malformed code is reported with the entry's position and code."""
    with pytest.raises(InvalidInputError, match=r"reasons\[2\] \(r-3\)\.code: String should"):
        catalogue(CATALOGUE.replace("code: R03", "code: r-3"))


def test_unknown_keys_are_refused() -> None:
    """Misspelt keys are errors, not silently ignored."""
    with pytest.raises(InvalidInputError, match=r"reasons\[0\] \(R01\)\.txt: Extra inputs"):
        catalogue(CATALOGUE.replace("text: Too many", "txt: Too many", 1))


def test_the_example_catalogue_covers_the_german_credit_model() -> None:
    """The shipped catalogue validates against the demo model's inputs."""
    inputs = [c for c in german_credit.COLUMNS
              if c not in ("row_id", german_credit.TARGET, german_credit.DATE,
                           *german_credit.PROTECTED)]

    example = load_catalogue(example_catalogue_text(), inputs=inputs)

    assert example.name == "german-credit-pd-reasons"
    assert len({r.code for r in example.reasons}) == len(example.reasons)
