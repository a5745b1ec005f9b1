"""Training from specs: deterministic artifacts, reproduction, lineage, and refused input."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from bankml import Platform
from bankml.core.errors import SpecError
from bankml.core.features import Entity, FeatureView, Field, FileSource, Int64, String
from bankml.core.manifest import MANIFEST_SCHEMA_VERSION
from bankml.core.serialisation import manifest_to_plain
from bankml.datasets import german_credit, synthesize_german_credit
from bankml.training import Trainer
from bankml.training.pipeline import split_dataset
from bankml.training.spec import load_spec
from support.people import staff
from support.trail import audit_events

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"
LOGISTIC = EXAMPLES / "german_credit_pd.yaml"
LIGHTGBM = EXAMPLES / "german_credit_pd_lightgbm.yaml"


@pytest.fixture
def bankml(tmp_path: Path) -> Iterator[Platform]:
    """Training is the same on any metadata store; the registry tests cover PostgreSQL."""
    with Platform.open(tmp_path / "home") as opened:
        yield opened


def variant(tmp_path: Path, *replacements: tuple[str, str], base: Path = LOGISTIC,
            name: str = "spec.yaml") -> Path:
    text = base.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def on_csv(tmp_path: Path, frame: pd.DataFrame | None = None) -> Path:
    """The example spec reading the synthetic data from a CSV file beside it."""
    (frame if frame is not None else synthesize_german_credit()).to_csv(
        tmp_path / "applications.csv", index=False)
    return variant(tmp_path, ("dataset: german_credit ", "path: applications.csv "))


def test_training_twice_gives_the_same_artifact(tmp_path: Path) -> None:
    """Two homes, one spec: the same artifact digest and predictions digest."""
    built = []
    for home in ("one", "two"):
        with Platform.open(tmp_path / home) as platform:
            built.append(platform.training.train(staff(platform, "dev"), LOGISTIC))

    assert built[0].artifact_sha256 == built[1].artifact_sha256


def test_reproduce_says_identical(bankml: Platform) -> None:
    """A version rebuilt from its manifest has the same bytes and bit-equal predictions."""
    version = bankml.training.train(staff(bankml, "dev"), LOGISTIC)

    result = bankml.training.reproduce(staff(bankml, "vera"), version.ref)

    assert result.is_identical
    assert result.verdict == "identical"


def test_lightgbm_example_is_deterministic(bankml: Platform) -> None:
    """The calibrated LightGBM example rebuilds to the same bytes, stored as LightGBM text."""
    version = bankml.training.train(staff(bankml, "dev"), LIGHTGBM)

    assert bankml.training.reproduce(staff(bankml, "vera"), version.ref).is_identical
    assert version.manifest is not None
    assert "calibration" in version.manifest.splits


def test_changed_data_is_named(bankml: Platform, tmp_path: Path) -> None:
    """One changed value in the source makes reproduce name the dataset."""
    frame = synthesize_german_credit()
    project = tmp_path / "project"  # not the working directory: paths resolve from the spec
    project.mkdir()
    version = bankml.training.train(staff(bankml, "dev"), on_csv(project, frame))
    frame.loc[3, "credit_amount"] += 1
    frame.to_csv(project / "applications.csv", index=False)

    result = bankml.training.reproduce(staff(bankml, "vera"), version.ref)

    assert not result.is_identical
    assert [d.input for d in result.differences] == ["dataset_sha256"]
    assert result.verdict.startswith("different: dataset_sha256: recorded")


def test_changed_spec_is_named(bankml: Platform, tmp_path: Path) -> None:
    """Reproducing from a spec with another seed names that field of the spec."""
    version = bankml.training.train(staff(bankml, "dev"), LOGISTIC)
    changed = variant(tmp_path, ("params: {C: 0.5,", "params: {C: 0.2,"))

    result = bankml.training.reproduce(staff(bankml, "vera"), version.ref, spec=changed)

    assert not result.is_identical
    assert [str(d) for d in result.differences] == [
        "spec.estimator.params.C: recorded 0.5, now 0.2"]


def test_manifest_holds_what_a_rebuild_needs(bankml: Platform) -> None:
    """Spec, data, code, dependencies, seed, threads and platform are recorded."""
    version = bankml.training.train(staff(bankml, "dev"), LOGISTIC)

    manifest = version.manifest
    assert manifest is not None
    assert manifest.schema_version == MANIFEST_SCHEMA_VERSION
    assert manifest.spec_sha256 == load_spec(LOGISTIC).spec.digest()
    assert manifest.environment.dependencies["lightgbm"] != "absent"
    assert manifest.dataset_snapshot_sha256 is not None
    assert bankml.artifacts.exists(manifest.dataset_snapshot_sha256)
    assert version.dataset_sha256 == manifest.dataset_sha256
    assert (manifest.seed, manifest.threads, manifest.data_source.dataset) == (
        7, 1, "german_credit")
    assert bankml.registry.get(version.ref).manifest == manifest


def test_stored_manifest_keeps_the_fields_it_always_had(bankml: Platform) -> None:
    """The stored layout names every field untyped manifests held, plus its version and
    the protected attributes' snapshot (kept apart from the dataset)."""
    version = bankml.training.train(staff(bankml, "dev"), LOGISTIC)
    assert version.manifest is not None

    stored = manifest_to_plain(version.manifest)

    assert set(stored) == {
        "schema_version", "spec", "spec_sha256", "spec_folder", "data_source",
        "dataset_sha256", "dataset_rows", "dataset_snapshot_sha256", "feature_refs",
        "feature_views", "code", "dependencies", "platform", "seeds", "threads", "splits",
        "protected_sha256", "protected_snapshot_sha256", "data_quality"}
    assert (stored["seeds"], stored["threads"]) == ({"seed": 7}, {"threads": 1})
    assert set(stored["platform"]) == {"python", "implementation", "system", "machine"}


def test_signature_records_types_ranges_and_categories(bankml: Platform) -> None:
    """Each input carries its dtype and the values seen in training; the output is named."""
    version = bankml.training.train(staff(bankml, "dev"), LOGISTIC)

    fields = {item.name: item for item in version.signature.inputs}
    assert fields["duration_months"].dtype == "int64"
    assert fields["duration_months"].minimum is not None
    assert fields["housing"].categories == ("for free", "own", "rent")
    assert version.signature.output == "probability_of_default"


def test_registered_model_scores_as_trained(bankml: Platform) -> None:
    """The loaded artifact scores the source rows as the training run did."""
    version = bankml.training.train(staff(bankml, "dev"), LIGHTGBM)
    model = bankml.registry.load(version)

    scores = model.predict_proba(synthesize_german_credit())[:, 1]

    assert scores.min() >= 0.0
    assert scores.max() <= 1.0


def test_lightgbm_scores_do_not_depend_on_threads(bankml: Platform) -> None:
    """One thread or two, every row gets the same score to the last bit."""
    model = bankml.registry.load(bankml.training.train(staff(bankml, "dev"), LIGHTGBM))
    rows = synthesize_german_credit()

    assert np.array_equal(model.predict_proba(rows, threads=1),
                          model.predict_proba(rows, threads=2))


def test_metrics_are_those_of_the_registered_artifact(bankml: Platform) -> None:
    """Holdout and test metrics equal scikit-learn's on the stored artifact's scores."""
    version = bankml.training.train(staff(bankml, "dev"), LIGHTGBM)
    model = bankml.registry.load(version)
    assert version.manifest is not None
    assert version.manifest.dataset_snapshot_sha256 is not None
    snapshot = bankml.artifacts.get(version.manifest.dataset_snapshot_sha256)
    sets = split_dataset(load_spec(LIGHTGBM), pd.read_parquet(io.BytesIO(snapshot)))

    for name in ("holdout", "test"):
        scores = model.predict_proba(sets[name], threads=1)[:, 1]
        labels = sets[name]["default"]
        assert version.metrics[f"{name}.auc"] == roc_auc_score(labels, scores)
        assert version.metrics[f"{name}.brier"] == brier_score_loss(labels, scores)


@pytest.mark.parametrize("replacements", [
    [("preprocessing:\n  numeric: {impute: median, scale: true}",
      "preprocessing:\n  woe_binning: {bins: 4}\n  numeric: {impute: median, scale: true}")],
    [("kind: logistic_regression\n  params: {C: 0.5, max_iter: 1000}",
      "kind: sklearn\n  class: sklearn.ensemble.RandomForestClassifier\n"
      "  params: {n_estimators: 20, max_depth: 4}")],
    [("seed: 7", "calibration: {method: sigmoid, share: 0.3}\nseed: 7")],
    [("preprocessing:\n", "preprocessing:\n  woe_binning: {bins: 6, method: monotone, "
      "edges: {duration_months: [12, 24, 36]}}\n")],
], ids=["woe-scorecard", "sklearn-by-import-path", "sigmoid-calibration",
        "woe-monotone-with-edges"])
def test_declared_variants_train_and_reproduce(bankml: Platform, tmp_path: Path,
                                               replacements: list[tuple[str, str]]) -> None:
    """WoE binning, an estimator by import path and Platt scaling each rebuild identically."""
    version = bankml.training.train(staff(bankml, "dev"), variant(tmp_path, *replacements))

    assert bankml.training.reproduce(staff(bankml, "vera"), version.ref).is_identical


def refused(bankml: Platform, spec: Path, message: str) -> SpecError:
    dev = staff(bankml, "dev")
    before = audit_events(bankml)
    with pytest.raises(SpecError, match=message) as caught:
        bankml.training.train(dev, spec)
    assert bankml.registry.versions() == []
    assert audit_events(bankml) == before
    assert stored_files(bankml) == []
    return caught.value


def stored_files(bankml: Platform) -> list[Path]:
    """Every file in the artifact store, committed or staged."""
    return [path for path in Path(bankml.settings.resolved_artifacts_uri).rglob("*")
            if path.is_file()]


def test_unknown_column_is_refused(bankml: Platform, tmp_path: Path) -> None:
    """An input the source does not have is named with its line; nothing is registered."""
    spec = variant(tmp_path, ("  - telephone\n", "  - telephone\n  - salary\n"))
    line = spec.read_text().splitlines().index("  - salary") + 1

    refused(bankml, spec, rf"line {line}, inputs.17: column 'salary' is not in the source")


def test_value_column_must_be_numeric(bankml: Platform, tmp_path: Path) -> None:
    """A `source.value` that holds text is refused with its line; nothing is registered."""
    spec = variant(tmp_path, ("  label: default\n", "  label: default\n  value: purpose\n"))
    line = spec.read_text().splitlines().index("  value: purpose") + 1

    refused(bankml, spec, rf"line {line}, source.value: 'purpose' must hold numbers")


@pytest.mark.parametrize(("estimator", "message", "rule"), [
    ("svm.SVC\n  params: {probability: false}",  # the class has predict_proba, this one not
     "sklearn.svm.SVC has no predict_proba", "pipeline.estimator"),
    ("ensemble.HistGradientBoostingClassifier\n  params: {max_iter: 10}",
     "holds types outside the trusted allowlist", "artifact.trusted_types"),
], ids=["estimator-cannot-be-built", "model-loading-would-refuse"])
def test_refused_after_the_snapshot_was_staged_stores_nothing(
        bankml: Platform, tmp_path: Path, estimator: str, message: str, rule: str) -> None:
    """Refused at or after the fit, when the snapshot is staged: it is dropped unstored."""
    spec = variant(tmp_path, ("kind: logistic_regression\n  params: {C: 0.5, max_iter: 1000}",
                              f"kind: sklearn\n  class: sklearn.{estimator}"))

    assert refused(bankml, spec, message).rule == rule


def test_split_leaving_test_empty_is_refused(bankml: Platform, tmp_path: Path) -> None:
    """An out-of-time date after the last row leaves the test set empty."""
    spec = variant(tmp_path, ("test_from: 2024-07-01", "test_from: 2031-01-01"))

    error = refused(bankml, spec, r"split.out_of_time.test_from: 2031-01-01 leaves the "
                                  "out-of-time test set empty")
    assert error.rule == "pipeline.split_nonempty"


def test_split_leaving_training_empty_is_refused(bankml: Platform, tmp_path: Path) -> None:
    """An out-of-time date before the first row leaves nothing to train on."""
    spec = variant(tmp_path, ("test_from: 2024-07-01", "test_from: 2020-01-01"))

    refused(bankml, spec, "leaves no rows before it to train on")


def test_feature_observed_after_the_event_is_refused(bankml: Platform,
                                                     tmp_path: Path) -> None:
    """A value known only after the application date would leak the label period."""
    frame = synthesize_german_credit()
    frame["amount_known_at"] = frame["application_date"]
    frame.loc[5, "amount_known_at"] += pd.Timedelta(days=30)
    frame.to_csv(tmp_path / "applications.csv", index=False)
    spec = variant(tmp_path, ("dataset: german_credit ", "path: applications.csv "),
                   ("  - credit_amount\n", "  - {name: credit_amount, as_of: amount_known_at}\n"))

    error = refused(bankml, spec, r"inputs.4: 'credit_amount' was observed after "
                                  r"application_date on 1 rows .*leak the label period")
    assert error.rule == "pipeline.label_leak"


def test_feature_refs_without_a_feature_store_are_refused(bankml: Platform,
                                                          tmp_path: Path) -> None:
    """A trainer built without a feature store says so for specs with feature refs."""
    alone = Trainer(bankml.metadata, bankml.registry, bankml.artifacts, datasets_dir=None)
    spec = spec_with_features(tmp_path, ["customer:income"])

    with pytest.raises(SpecError, match="no feature store is wired") as caught:
        alone.train(staff(bankml, "dev"), spec)
    assert caught.value.rule == "pipeline.feature_store"
    assert bankml.registry.versions() == []


def test_label_that_is_not_binary_is_refused(bankml: Platform, tmp_path: Path) -> None:
    """The label must hold 0 and 1 only."""
    frame = synthesize_german_credit()
    frame.loc[0, "default"] = 2

    refused(bankml, on_csv(tmp_path, frame), "'default' must hold 0 and 1 only")


def apply_application_view(bankml: Platform, tmp_path: Path, *, ttl_days: int = 3650) -> None:
    """German credit applications as a feature view, each value known a day before applying."""
    frame = synthesize_german_credit()
    rows = frame[["row_id", "duration_months", "credit_amount", "checking_status"]].copy()
    rows["event_timestamp"] = (pd.to_datetime(frame[german_credit.DATE], utc=True)
                               - pd.Timedelta(days=1))
    rows.to_parquet(tmp_path / "applications.parquet")
    view = FeatureView(
        name="application", entities=(Entity(name="applicant", join_keys=("row_id",),
                                             dtype=Int64),),
        source=FileSource(path=str(tmp_path / "applications.parquet")),
        schema=(Field(name="duration_months", dtype=Int64),
                Field(name="credit_amount", dtype=Int64),
                Field(name="checking_status", dtype=String)),
        ttl=timedelta(days=ttl_days))
    bankml.features.apply(staff(bankml, "ops"), [view])


def spec_with_features(tmp_path: Path, refs: list[str]) -> Path:
    # the example declares a direction for duration_months, which these refs may not hold
    text = re.sub(r"  monotone: .*\n", "", LOGISTIC.read_text())
    spec = tmp_path / "spec.yaml"
    spec.write_text(text[:text.index("inputs:")] + "features:\n"
                    + "".join(f"  - {ref}\n" for ref in refs) + "\n"
                    + text[text.index("split:"):])
    return spec


def test_feature_refs_record_their_view_versions(bankml: Platform, tmp_path: Path) -> None:
    """Training through the feature store records the view versions; lineage finds them."""
    apply_application_view(bankml, tmp_path)
    spec = spec_with_features(tmp_path, ["application:duration_months",
                                         "application:credit_amount",
                                         "application:checking_status"])

    version = bankml.training.train(staff(bankml, "dev"), spec)

    assert version.feature_views == ("application@1",)
    assert [v.ref for v in bankml.registry.using_feature_view("application@1")] == [version.ref]


def test_reproduce_reads_the_recorded_view_versions(bankml: Platform, tmp_path: Path) -> None:
    """A newer view version applied since training does not change what the rebuild reads."""
    apply_application_view(bankml, tmp_path)
    spec = spec_with_features(tmp_path, ["application:duration_months",
                                         "application:credit_amount"])
    version = bankml.training.train(staff(bankml, "dev"), spec)
    apply_application_view(bankml, tmp_path, ttl_days=1)  # a changed definition: version 2

    assert bankml.features.version("application").number == 2
    assert bankml.training.reproduce(staff(bankml, "vera"), version.ref).is_identical


def test_example_trains_on_the_real_file(real_datasets: Path, tmp_path: Path) -> None:
    """With BANKML_DATASETS set, the example trains on the UCI file and rebuilds identically."""
    with Platform.open(tmp_path / "home", datasets=real_datasets) as platform:
        version = platform.training.train(staff(platform, "dev"), LOGISTIC)

        assert version.manifest is not None
        assert version.manifest.data_source.origin == "real"
        assert platform.training.reproduce(staff(platform, "vera"), version.ref).is_identical


def test_unknown_feature_view_is_named_with_its_line(bankml: Platform, tmp_path: Path) -> None:
    """A ref the feature store does not know is named with the spec line; nothing registered."""
    apply_application_view(bankml, tmp_path)
    spec = spec_with_features(tmp_path, ["application:duration_months",
                                         "bureeau:checking_status"])
    line = spec.read_text().splitlines().index("  - bureeau:checking_status") + 1

    with pytest.raises(SpecError, match=rf"line {line}, features.1: No feature view 'bureeau'"):
        bankml.training.train(staff(bankml, "dev"), spec)
    assert bankml.registry.versions() == []


def test_keys_that_repeat_are_refused(bankml: Platform, tmp_path: Path) -> None:
    """Two rows with the same entity key and event time are refused with the field and
    the rule: the protected attributes are joined back on that key."""
    frame = synthesize_german_credit()
    frame.loc[1, ["row_id", "application_date"]] = frame.loc[0, ["row_id", "application_date"]]

    error = refused(bankml, on_csv(tmp_path, frame), r"source.entity: row_id \+ "
                    r"application_date must identify one row each; 2 rows share a key")

    assert error.rule == "pipeline.entity_unique"


# -- data checks ---------------------------------------------------------------------------


def with_column(tmp_path: Path, name: str, values: object, *replacements: tuple[str, str],
                frame: pd.DataFrame | None = None) -> Path:
    """The example spec on a CSV file whose extra column `name` is an input."""
    data = synthesize_german_credit() if frame is None else frame
    data[name] = values
    data.to_csv(tmp_path / "applications.csv", index=False)
    return variant(tmp_path, ("dataset: german_credit ", "path: applications.csv "),
                   ("  - telephone\n", f"  - telephone\n  - {name}\n"), *replacements)


def test_a_unique_per_row_text_input_is_refused(bankml: Platform, tmp_path: Path) -> None:
    """A text column with a value per row is an identifier, not a feature: refused with
    its line, the count and the rule, before anything is fitted."""
    spec = with_column(tmp_path, "application_ref", [f"A-{i:05d}" for i in range(1000)])
    line = spec.read_text().splitlines().index("  - application_ref") + 1

    error = refused(bankml, spec, r"'application_ref' has 1,000 distinct values on 1,000 "
                    r"rows \(100%\)")

    assert error.rule == "data.identifier"
    assert f"line {line}, inputs.17" in str(error)


@pytest.mark.parametrize(("encoding", "replacement", "limit"), [
    ("one_hot", ("encode: one_hot", "encode: one_hot"), 100),
    ("woe", ("preprocessing:\n", "preprocessing:\n  woe_binning: {bins: 4}\n"), 50)])
def test_categories_beyond_the_encodings_limit_are_refused(
        bankml: Platform, tmp_path: Path, encoding: str, replacement: tuple[str, str],
        limit: int) -> None:
    """A text input with more categories than its encoding's limit is refused, naming the
    encoding and the limit."""
    spec = with_column(tmp_path, "branch", [f"b{i % (limit + 5)}" for i in range(1000)],
                       replacement)

    error = refused(bankml, spec, rf"'branch' has {limit + 5} categories; {encoding} "
                    rf"encoding takes at most {limit}")

    assert error.rule == "data.categories"


def test_a_breach_only_warns_when_the_spec_says_so(bankml: Platform, tmp_path: Path) -> None:
    """With `on_breach: warn` the version trains; the manifest and the model card record
    the breach and the rule."""
    spec = with_column(tmp_path, "branch", [f"b{i % 105}" for i in range(1000)],
                       ("seed: 7", "data_checks:\n  categories: {on_breach: warn}\nseed: 7"))
    said: list[str] = []

    version = bankml.training.train(staff(bankml, "dev"), spec, progress=said.append)

    assert version.manifest is not None
    quality = version.manifest.data_quality
    assert quality is not None
    [warned] = [c for c in quality.checks if c.breached]
    assert (warned.rule, warned.column, warned.value, warned.limit, warned.on_breach) == (
        "data.categories", "branch", 105, 100, "warn")
    assert any("warning" in line and "data.categories" in line for line in said)
    card = bankml.registry.card(version.ref).markdown()
    assert "data.categories" in card
    assert "'branch' has 105 categories" in card


def test_missing_rates_warn_by_default_and_refuse_on_request(bankml: Platform,
                                                            tmp_path: Path) -> None:
    """An input missing on 60% of rows warns under the default limit of 50%; a spec that
    asks to refuse is refused with the share and the rule."""
    gappy = [None if i % 5 < 3 else float(i) for i in range(1000)]
    warned = bankml.training.train(staff(bankml, "dev"), with_column(tmp_path, "income", gappy))
    assert warned.manifest is not None
    assert warned.manifest.data_quality is not None
    [check] = [c for c in warned.manifest.data_quality.checks
               if c.rule == "data.missing_share" and c.column == "income"]
    assert (check.value, check.limit, check.breached) == (pytest.approx(0.6), 0.5, True)

    strict = tmp_path / "strict"
    strict.mkdir()
    spec = with_column(strict, "income", gappy, (
        "seed: 7", "data_checks:\n  missing: {max_share: 0.5, on_breach: refuse}\nseed: 7"))
    with pytest.raises(SpecError, match=r"'income' has no value on 600 of 1,000 rows \(60%\); "
                       r"the limit is 50%") as caught:
        bankml.training.train(staff(bankml, "dev"), spec)
    assert caught.value.rule == "data.missing_share"


def test_label_error_names_the_values_and_their_rows(bankml: Platform, tmp_path: Path) -> None:
    """A label that is not 0/1 is refused with each wrong value, its row count, and the
    rows without a label."""
    frame = synthesize_german_credit()
    frame["default"] = frame["default"].astype(object)
    frame.loc[:13, "default"] = 2
    frame.loc[14:16, "default"] = "yes"
    frame.loc[17:21, "default"] = None

    error = refused(bankml, on_csv(tmp_path, frame), r"'default' must hold 0 and 1 only, "
                    r"without gaps: found '2' on 14 rows, 'yes' on 3 rows; no value on 5 rows")

    assert error.rule == "pipeline.label_binary"


def test_a_misspelt_protected_attribute_is_refused_at_training(bankml: Platform,
                                                               tmp_path: Path) -> None:
    """A protected attribute the source does not have is refused before anything is
    registered, not found missing at validation."""
    spec = variant(tmp_path, ("{name: age_years, bands",
                              "{name: age_yaers, bands"))

    error = refused(bankml, spec, r"'age_yaers' is not in the source")

    assert error.rule == "data.protected_present"
    assert "model.protected_attributes.0" in str(error)


def test_missing_protected_values_are_named_with_column_and_count(bankml: Platform,
                                                                  tmp_path: Path) -> None:
    """Missing values of a protected attribute are refused naming the column and how many
    rows; an unknown value must be coded explicitly."""
    frame = synthesize_german_credit()
    frame.loc[[3, 5, 8], "sex"] = None

    error = refused(bankml, on_csv(tmp_path, frame), r"'sex' is missing on 3 of 1000 rows")

    assert error.rule == "pipeline.protected_complete"


def test_manifest_records_label_counts_and_every_check(bankml: Platform) -> None:
    """The example's manifest holds the label counts and one missing-rate check per input
    (equal to pandas' own count), all within limits."""
    version = bankml.training.train(staff(bankml, "dev"), LOGISTIC)
    assert version.manifest is not None
    quality = version.manifest.data_quality
    assert quality is not None
    frame = synthesize_german_credit()

    assert quality.label_counts == {str(k): int(v) for k, v in
                                    frame["default"].value_counts().items()}
    missing = {c.column: c.value for c in quality.checks if c.rule == "data.missing_share"}
    assert missing == {name: pytest.approx(frame[name].isna().mean(), abs=0)
                       for name in version.inputs}
    assert not any(c.breached for c in quality.checks)
    assert "## Data checks" in bankml.registry.card(version.ref).markdown()


# -- CSV options ---------------------------------------------------------------------------


def test_a_semicolon_file_with_decimal_commas_reads_as_declared(bankml: Platform,
                                                                tmp_path: Path) -> None:
    """`csv: {separator: ';', decimal: ',', index_column: 0}` reads a regional export with a
    row-number column into the very dataset the plain CSV gives: the same digest."""
    frame = synthesize_german_credit()
    frame["credit_amount"] = frame["credit_amount"] / 7  # numbers with decimals
    plain = bankml.training.train(staff(bankml, "dev"), on_csv(tmp_path, frame))
    regional = tmp_path / "regional"
    regional.mkdir()
    frame.to_csv(regional / "applications.csv", sep=";", decimal=",", index=True)
    spec = variant(regional, ("dataset: german_credit ",
                              "path: applications.csv\n  csv: {separator: ';', decimal: ',', "
                              "index_column: 0}\n "))

    version = bankml.training.train(staff(bankml, "dev"), spec)

    assert version.dataset_sha256 == plain.dataset_sha256


def test_a_semicolon_file_read_as_one_column_says_which_separator(bankml: Platform,
                                                                  tmp_path: Path) -> None:
    """A file separated by `;` read with the default `,` is refused with the separator to
    declare, not with "column 'row_id' is not in the source"."""
    synthesize_german_credit().to_csv(tmp_path / "applications.csv", sep=";", index=False)
    spec = variant(tmp_path, ("dataset: german_credit ", "path: applications.csv "))

    error = refused(bankml, spec, r"applications.csv reads as one column .* its header is "
                    r"separated by ';': declare `csv: \{separator: ';'\}` under source")

    assert error.rule == "pipeline.csv_format"
