"""Evidence records to JSON and back: manifests and validation results, every layout."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.manifest import (
    MANIFEST_SCHEMA_VERSION,
    CodeVersion,
    DataCheck,
    DataQuality,
    DataSource,
    Environment,
    Manifest,
)
from bankml.core.serialisation import (
    manifest_from_json,
    manifest_from_plain,
    manifest_to_json,
    manifest_to_plain,
    result_from_json,
    result_from_plain,
    result_to_json,
    result_to_plain,
    version_manifest_from_json,
    version_manifest_json,
)
from bankml.core.validation import (
    RESULT_SCHEMA_VERSION,
    AlertFairness,
    Opinion,
    SelectionFairness,
    SignificanceRule,
    Tag,
    Verdict,
)
from support.evidence_v1 import ALERT_FAIRNESS_V1, MANIFEST_V1, RESULT_V1, SPEC_V1


def manifest(**changes: Any) -> Manifest:
    made = Manifest(
        spec=SPEC_V1, spec_sha256="s" * 64, spec_folder="/srv/models/specs",
        data_source=DataSource(path="/srv/data/applications.parquet", origin="file",
                               description="applications.parquet (1,000 rows)"),
        dataset_sha256="d" * 64, dataset_rows=1000,
        feature_refs={"bureau:delinquencies": "bureau@3:delinquencies"},
        feature_views=("bureau@3",), code=CodeVersion(bankml="0.1.0", git_commit=None),
        environment=Environment(dependencies={"numpy": "2.4.6", "lightgbm": "absent"},
                                python="3.11.7", implementation="CPython", system="Linux",
                                machine="x86_64"),
        seed=7, threads=2, splits={"train": 600, "holdout": 150, "test": 250},
        dataset_snapshot_sha256="e" * 64)
    return replace(made, **changes)


def test_manifest_round_trips_through_json() -> None:
    """A manifest written as JSON reads back equal, in the current layout."""
    written = manifest_to_json(manifest())

    assert manifest_from_json(written) == manifest()
    assert json.loads(written)["schema_version"] == MANIFEST_SCHEMA_VERSION


def test_manifest_keeps_its_data_checks() -> None:
    """Label counts and every data check, warned breaches included, read back equal; a
    manifest stored before training checked its data reads as having none."""
    quality = DataQuality(label_counts={"0": 700, "1": 300}, checks=(
        DataCheck(rule="data.categories", column="branch", value=105.0, limit=100.0,
                  breached=True, on_breach="warn", detail="'branch' has 105 categories"),
        DataCheck(rule="data.missing_share", column="income", value=0.0, limit=0.5,
                  breached=False, on_breach="warn", detail="'income' has no value on 0")))
    written = manifest_to_json(manifest(data_quality=quality))

    assert manifest_from_json(written) == manifest(data_quality=quality)
    assert "data_quality" not in manifest_to_plain(manifest())
    assert manifest_from_json(manifest_to_json(manifest())) == manifest()


def test_a_data_check_of_the_wrong_kind_is_refused_with_its_path() -> None:
    """A stored check whose `breached` is not true or false names its path."""
    plain = manifest_to_plain(manifest(data_quality=DataQuality(label_counts={}, checks=(
        DataCheck(rule="data.identifier", column="ref", value=1.0, limit=0.5, breached=True,
                  on_breach="refuse", detail="x"),))))
    plain["data_quality"]["checks"][0]["breached"] = "yes"  # type: ignore[index]

    with pytest.raises(InvalidInputError, match=r"manifest\.data_quality\.checks\[0\]"
                       r"\.breached: is the text .yes., not true or false"):
        manifest_from_plain(plain)


def test_version_1_manifest_reads_through_the_typed_fields() -> None:
    """A manifest stored before the schema had a version loads, field by field."""
    loaded = manifest_from_plain(MANIFEST_V1)

    assert loaded is not None
    assert loaded.schema_version == 1
    assert (loaded.seed, loaded.threads, loaded.dataset_rows) == (7, 1, 1000)
    assert loaded.code.git_commit == "bd4b5e60f946dcf92be546c10afff4a1acfd535e"
    assert loaded.environment.dependencies["lightgbm"] == "4.7.0"
    assert (loaded.environment.python, loaded.environment.machine) == ("3.11.7", "x86_64")
    assert loaded.data_source.dataset == "german_credit"
    assert loaded.splits == {"holdout": 153, "test": 238, "train": 609}
    assert (loaded.test_from, loaded.holdout_share) == ("2024-07-01", 0.2)
    assert loaded.decision_policy["decline_from"] == 0.45


def test_version_1_manifest_is_written_back_as_it_was_stored() -> None:
    """Nothing a version-1 manifest recorded is lost or renamed on the way through."""
    loaded = manifest_from_plain(MANIFEST_V1)
    assert loaded is not None

    assert manifest_to_plain(loaded) == {**MANIFEST_V1, "schema_version": 1}


def test_earliest_manifests_keep_their_extra_fields() -> None:
    """Before `spec_folder` existed a manifest held `predictions_sha256`; both are kept."""
    earliest = {key: value for key, value in MANIFEST_V1.items() if key != "spec_folder"}
    earliest["predictions_sha256"] = "f" * 64

    loaded = manifest_from_plain(earliest)

    assert loaded is not None
    assert loaded.spec_folder is None
    assert loaded.legacy == {"predictions_sha256": "f" * 64}
    assert manifest_to_plain(loaded) == {**earliest, "schema_version": 1}


@pytest.mark.parametrize(("stored", "views"), [
    ("{}", ()), ('{"feature_views":[]}', ()), ('{"feature_views":["customer@1"]}',
                                               ("customer@1",))])
def test_versions_registered_by_hand_have_no_manifest(stored: str,
                                                      views: tuple[str, ...]) -> None:
    """Rows of versions registered by hand read as no manifest, their feature views kept."""
    assert version_manifest_from_json(stored) == (None, views)


def test_version_without_manifest_keeps_its_feature_views() -> None:
    """A version registered by hand stores only its feature views, as it always did."""
    text = version_manifest_json(None, feature_views=("customer@1",))

    assert text == '{"feature_views":["customer@1"]}'
    assert version_manifest_from_json(text) == (None, ("customer@1",))


def test_version_manifest_carries_its_feature_views() -> None:
    """A version's row gives its manifest and the views the manifest names."""
    text = version_manifest_json(manifest(), feature_views=("bureau@3",))

    assert version_manifest_from_json(text) == (manifest(), ("bureau@3",))


def test_missing_field_is_named_by_its_path() -> None:
    """A manifest without its code version is refused, naming the field."""
    broken = {**MANIFEST_V1, "code": {"git_commit": None}}

    with pytest.raises(InvalidInputError, match=r"^manifest\.code\.bankml: missing"):
        manifest_from_plain(broken)


def test_wrong_kind_of_value_is_named() -> None:
    """A seed stored as text is refused, naming the field and what it holds."""
    broken = {**MANIFEST_V1, "seeds": {"seed": "7"}}

    with pytest.raises(InvalidInputError, match=r"manifest\.seeds\.seed: is the text '7', "
                       "not a whole number"):
        manifest_from_plain(broken)


def test_newer_layout_is_refused() -> None:
    """A manifest from a newer bankml is refused rather than read wrongly."""
    with pytest.raises(InvalidInputError, match=r"manifest\.schema_version: 3 is not a "
                       "layout this bankml reads"):
        manifest_from_plain({**MANIFEST_V1, "schema_version": 3})


def test_current_layout_has_no_unknown_fields() -> None:
    """A field the current layout does not name is refused in a version-2 manifest."""
    stored = {**manifest_to_plain(manifest()), "predictions_sha256": "f" * 64}

    with pytest.raises(InvalidInputError, match=r"manifest\.predictions_sha256: is not a "
                       "field of this layout"):
        manifest_from_plain(stored)


# -- validation results ---------------------------------------------------------------------


def test_version_1_result_reads_through_the_typed_fields() -> None:
    """A run's result stored before the schema had a version loads, field by field."""
    result = result_from_plain(RESULT_V1)

    assert result.schema_version == 1
    assert (result.opinion, result.fairness_passed, result.against) == (
        Opinion.MINOR_DEFICIENCIES, True, None)
    assert (result.model_card.name, result.model_card.risk_tier) == ("german-credit-pd", 2)
    assert result.policy.opinion_tag == Tag.BANK_POLICY
    assert (result.scope.out_of_time.rows, result.scope.train.period) == (
        238, ("2023-01-01", "2024-06-30"))
    auc = next(t for t in result.tests if t.test == "discrimination.auc")
    assert (auc.verdict, auc.p_value, auc.threshold.material) == (Verdict.GREEN, None, True)
    assert auc.threshold.describe() == ">= 0.7 green, >= 0.6 amber"
    assert result.key_tests(1)[0].test == "discrimination.auc"


def test_version_1_result_gives_the_auc_pd07_reads() -> None:
    """The out-of-time AUC, which a later run takes as PD-07's initial AUC, is typed."""
    details = result_from_plain(RESULT_V1).out_of_time

    assert details.auc is not None
    assert details.auc.auc == pytest.approx(0.7231081926203877)
    assert details.auc_vs_initial is not None
    assert details.auc_vs_initial.source == "initial validation run a4ed1e541d13159f"


def test_version_1_fairness_tables_are_typed() -> None:
    """Groups, intervals and group calibration read as typed rows; nulls stay None."""
    [sex, intersection] = result_from_plain(RESULT_V1).out_of_time.fairness
    assert isinstance(sex, SelectionFairness)
    assert isinstance(intersection, SelectionFairness)

    assert (sex.reference, [g.group for g in sex.groups]) == (
        "sex=female", ["sex=female", "sex=male"])
    assert sex.groups[1].impact_ratio_low == pytest.approx(0.7241046581972173)
    assert sex.calibration[0].jeffreys_p_value == pytest.approx(0.12549468336783368)
    assert sex.proxies[0].auc is None
    assert intersection.groups[0].average_odds_difference is None
    assert intersection.calibration == ()


def test_version_1_previous_run_is_typed() -> None:
    """The previous run's summary and each test's change read as typed records."""
    previous = result_from_plain(RESULT_V1).previous

    assert previous is not None
    assert (previous.run_id, previous.opinion) == ("a4ed1e541d13159f",
                                                   Opinion.MINOR_DEFICIENCIES)
    change = previous.deltas[1]
    assert (change.test, change.before, change.now, change.verdict_now) == (
        "discrimination.auc_vs_initial", pytest.approx(-1.5886699515529483), 0.0,
        Verdict.GREEN)


def test_version_1_result_is_written_back_as_it_was_stored() -> None:
    """Nothing a version-1 result recorded is lost or renamed on the way through."""
    assert result_to_plain(result_from_plain(RESULT_V1)) == {**RESULT_V1, "schema_version": 1}


def test_chart_data_is_kept_by_name() -> None:
    """Details that are not typed (curves, bins) are kept as stored, by name."""
    details = result_from_plain(RESULT_V1).out_of_time

    assert details.charts["roc"] == RESULT_V1["details"]["out_of_time"]["roc"]
    assert set(details.charts) == {"ks", "roc"}


def test_result_round_trips_through_json() -> None:
    """A current result written as JSON reads back equal, alert parity tables included."""
    loaded = result_from_plain(RESULT_V1)
    alerts = replace(loaded.out_of_time, fairness=(_alert_table(),))
    current = replace(loaded, schema_version=RESULT_SCHEMA_VERSION,
                      details={"out_of_time": loaded.out_of_time, "sample": alerts})

    written = result_to_json(current)

    assert result_from_json(written) == current
    assert json.loads(written)["schema_version"] == RESULT_SCHEMA_VERSION


def test_a_thresholds_significance_rule_is_stored_and_read_back() -> None:
    """A fairness ratio's significance rule (FL-12) is kept with the test's threshold; a
    threshold without one is written as every earlier layout wrote it."""
    loaded = result_from_plain(RESULT_V1)
    [index] = [i for i, t in enumerate(loaded.tests) if t.test == "fairness.impact_ratio[sex]"]
    rule = SignificanceRule(level=0.05, tag=Tag.INDUSTRY, source="FL-12")
    test = loaded.tests[index]
    tests = list(loaded.tests)
    tests[index] = replace(test, threshold=replace(test.threshold, significance=rule))
    current = replace(loaded, schema_version=RESULT_SCHEMA_VERSION, tests=tuple(tests))

    stored = json.loads(result_to_json(current))

    assert stored["tests"][index]["threshold"]["significance"] == {
        "level": 0.05, "tag": "industry", "source": "FL-12"}
    assert stored["tests"][index]["threshold"]["text"].endswith(", red only if p < 0.05")
    assert result_from_plain(stored) == current
    assert all("significance" not in t["threshold"] for i, t in enumerate(stored["tests"])
               if i != index)


def test_a_random_holdout_is_stored_under_its_own_name() -> None:
    """Layout 3 names a random split's test rows `holdout_random` in the scope, and reads
    them back; a layout-2 result (no `test_population`) reads as out of time."""
    loaded = result_from_plain(RESULT_V1)
    current = replace(loaded, schema_version=RESULT_SCHEMA_VERSION,
                      scope=replace(loaded.scope, test_population="holdout_random"),
                      details={"holdout_random": loaded.out_of_time})

    stored = json.loads(result_to_json(current))
    version_2 = {**RESULT_V1, "schema_version": 2}

    assert stored["scope"]["test_population"] == "holdout_random"
    assert "holdout_random" in stored["scope"]
    assert "out_of_time" not in stored["scope"]
    assert result_from_plain(stored) == current
    assert result_from_plain(stored).out_of_time == loaded.out_of_time
    assert result_from_plain(version_2).scope.test_population == "out_of_time"
    assert result_to_plain(result_from_plain(version_2)) == version_2


def test_test_value_not_computed_reads_as_nan() -> None:
    """A test whose value was stored as null (not computed) reads as NaN, verdict kept."""
    stored = json.loads(json.dumps(RESULT_V1))
    stored["tests"][3]["value"] = None
    stored["tests"][3]["verdict"] = "amber"

    test = result_from_plain(stored).tests[3]

    assert math.isnan(test.value)
    assert test.verdict == Verdict.AMBER
    assert result_to_plain(result_from_plain(stored))["tests"][3]["value"] is None


def test_result_without_a_field_is_named_by_its_path() -> None:
    """A result missing its out-of-time scope is refused, naming the field."""
    stored = json.loads(json.dumps(RESULT_V1))
    del stored["scope"]["out_of_time"]

    with pytest.raises(InvalidInputError, match=r"^result\.scope\.out_of_time: missing"):
        result_from_plain(stored)


def test_unknown_opinion_level_is_refused() -> None:
    """An opinion outside the ECB's four levels is refused, naming the field."""
    stored = {**RESULT_V1, "opinion": {"level": 5, "label": "?"}}

    with pytest.raises(InvalidInputError, match=r"result\.opinion\.level: 5 is not an opinion"):
        result_from_plain(stored)


def _alert_table() -> AlertFairness:
    table = result_from_plain({**RESULT_V1, "details": {"out_of_time": {
        "fairness": [ALERT_FAIRNESS_V1]}}}).out_of_time.fairness[0]
    assert isinstance(table, AlertFairness)
    assert table.groups[0].alert_rate_ratio == pytest.approx(2.0643564356435644)
    return table


def test_version_manifest_must_name_the_versions_feature_views() -> None:
    """A row cannot keep a manifest whose feature views are not the version's."""
    with pytest.raises(InvalidInputError, match=r"manifest\.feature_views: \['bureau@3'\] "
                       "differ from the version's \\['bureau@4'\\]"):
        version_manifest_json(manifest(), feature_views=("bureau@4",))
