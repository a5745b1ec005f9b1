"""Validation runs on the German credit examples, checked against independent references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats
from sklearn.metrics import roc_auc_score

from bankml import Platform
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Principal, Role
from bankml.core.registry import ModelVersion, Stage
from bankml.core.validation import Opinion, SelectionFairness, Verdict
from bankml.datasets import load_german_credit
from bankml.explain import sample_background
from bankml.reports.validation import to_html, to_pdf
from bankml.training.pipeline import split_dataset
from bankml.training.spec import load_spec
from support.people import person, staff
from support.trail import audit_events

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"
TEST_FROM = pd.Timestamp("2024-07-01", tz="UTC")


def out_of_time(platform: Platform, version: ModelVersion) -> tuple[pd.DataFrame, np.ndarray]:
    """The out-of-time rows read straight from the data, scored by the registered model."""
    frame = load_german_credit(None).frame
    rows = frame[pd.to_datetime(frame["application_date"], utc=True) >= TEST_FROM]
    scores = platform.registry.load(version).predict_proba(rows[version.inputs])[:, 1]
    return rows.reset_index(drop=True), scores


def validator(platform: Platform) -> Principal:
    return staff(platform, "vera")


@pytest.fixture
def logistic(platform: Platform) -> ModelVersion:
    return platform.training.train(staff(platform, "dana"), EXAMPLES / "german_credit_pd.yaml")


def test_run_matches_independent_references(platform: Platform,
                                            logistic: ModelVersion) -> None:
    """Stored AUC, Jeffreys p and selection rates equal scikit-learn, SciPy and fairlearn."""
    run = platform.validation.run(staff(platform, "vera"), logistic.ref)
    result = platform.validation.result(run)
    tests = {t.test: t for t in result.tests}
    rows, scores = out_of_time(platform, logistic)
    labels = rows["default"].to_numpy()

    assert tests["discrimination.auc"].value == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12)
    assert result.out_of_time.auc is not None
    assert result.out_of_time.auc.auc == tests["discrimination.auc"].value
    expected_p = stats.beta.cdf(scores.mean(), labels.sum() + 0.5,
                                len(labels) - labels.sum() + 0.5)
    assert tests["calibration.jeffreys_portfolio"].p_value == pytest.approx(
        expected_p, abs=1e-9)
    approve = (scores < 0.45).astype(int)  # the spec's decline_from: favourable = not declined
    reference = MetricFrame(metrics=selection_rate, y_true=1 - labels, y_pred=approve,
                            sensitive_features=rows["sex"].to_numpy()).by_group
    [sex] = [r for r in result.out_of_time.fairness if r.attribute == "sex"]
    stored = {g.group: g.selection_rate for g in sex.groups}
    for group, rate in reference.items():
        assert stored[f"sex={group}"] == pytest.approx(rate, abs=1e-12)
    assert result.scope.out_of_time.rows == len(rows)


def test_second_model_is_compared_with_delong(platform: Platform,
                                              logistic: ModelVersion) -> None:
    """A LightGBM challenger validated against the logistic model carries a DeLong test."""
    gbm = platform.training.train(staff(platform, "dana"),
                                  EXAMPLES / "german_credit_pd_lightgbm.yaml")
    run = platform.validation.run(staff(platform, "vera"), gbm.ref, against=logistic.ref)
    comparison = platform.validation.result(run).out_of_time.comparison
    assert comparison is not None
    rows, gbm_scores = out_of_time(platform, gbm)
    _, logistic_scores = out_of_time(platform, logistic)
    labels = rows["default"].to_numpy()

    assert run.against == logistic.ref
    assert comparison.against == logistic.ref
    assert comparison.auc_a == pytest.approx(roc_auc_score(labels, gbm_scores), abs=1e-12)
    assert comparison.auc_b == pytest.approx(roc_auc_score(labels, logistic_scores),
                                             abs=1e-12)
    assert comparison.z is not None
    assert comparison.p_value == pytest.approx(2 * stats.norm.sf(abs(comparison.z)), abs=1e-12)


def test_run_is_stored_with_policy_version_and_audited(platform: Platform,
                                                       logistic: ModelVersion) -> None:
    """The run's row, its JSON artifact and its audit event agree."""
    run = platform.validation.run(staff(platform, "vera"), logistic.ref)
    [event] = [e for e in audit_events(platform, subject=f"model:{logistic.ref}")
               if e.action == "validation.run"]
    stored = platform.validation.get(run.run_id)

    assert stored == run
    assert platform.validation.runs(logistic.ref) == [run]
    assert event.payload["result_sha256"] == run.result_sha256
    assert event.payload["policy_version"] == run.policy_version
    assert platform.validation.result(run).policy.version == run.policy_version
    assert run.opinion in Opinion


def test_second_run_reports_the_previous_one(platform: Platform,
                                             logistic: ModelVersion) -> None:
    """A later run names the earlier one and the change in each test."""
    first = platform.validation.run(staff(platform, "vera"), logistic.ref)
    vera = staff(platform, "vera")
    second = platform.validation.result(platform.validation.run(vera, logistic.ref))

    assert second.previous is not None
    assert second.previous.run_id == first.run_id
    assert {d.test for d in second.previous.deltas} >= {"discrimination.auc"}


def test_initial_validation_is_the_run_signed_off_at_first_approval(
        platform: Platform, logistic: ModelVersion) -> None:
    """PD-07 compares with the development holdout AUC until the model is first approved
    for prod; the run the sign-off then rests on becomes the initial validation, recorded
    as such, and an earlier exploratory run never is."""
    vera, dana = validator(platform), staff(platform, "dana")
    platform.validation.run(vera, logistic.ref)  # exploratory
    signed = platform.validation.run(vera, logistic.ref)
    before = platform.validation.result(signed).out_of_time.auc_vs_initial
    platform.oversight.record_validation(vera, logistic.ref, passed=True, summary="fit",
                                         run_id=signed.run_id)
    platform.oversight.request_transition(dana, logistic.ref, Stage.STAGING, reason="ok")
    request = platform.oversight.request_transition(dana, logistic.ref, Stage.PROD,
                                                    reason="go")
    platform.oversight.approve(staff(platform, "mira"), request.request_id,
                               role=Role.MODEL_RISK)

    after = platform.validation.result(platform.validation.run(vera, logistic.ref))
    [event] = [e for e in audit_events(platform) if e.action == "validation.baseline_set"]

    assert before is not None
    assert before.auc_initial == logistic.metrics["holdout.auc"]
    assert before.source.startswith("development holdout AUC")
    initial = after.out_of_time.auc_vs_initial
    signed_auc = platform.validation.result(signed).out_of_time.auc
    assert initial is not None
    assert signed_auc is not None
    assert initial.auc_initial == signed_auc.auc
    assert initial.source.startswith(f"initial validation run {signed.run_id} "
                                     f"({logistic.ref}, signed off by vera, first approved "
                                     f"for prod by request #{request.request_id})")
    assert (event.payload["run_id"], event.subject) == (signed.run_id,
                                                        f"model:{logistic.ref}")


def test_signoff_rests_on_a_run(platform: Platform, logistic: ModelVersion) -> None:
    """A sign-off names its run and takes the run's fairness verdict."""
    vera = validator(platform)
    run = platform.validation.run(staff(platform, "vera"), logistic.ref)
    signoff = platform.oversight.record_validation(vera, logistic.ref, passed=True,
                                                   summary="ok", run_id=run.run_id)
    assert signoff.run_id == run.run_id
    assert signoff.fairness_passed == run.fairness_passed
    assert platform.oversight.signoffs(vera, logistic.name)[-1].run_id == run.run_id


def test_signoff_refuses_another_versions_run(platform: Platform,
                                              logistic: ModelVersion) -> None:
    """A run of another version cannot carry this version's sign-off."""
    vera = validator(platform)
    run = platform.validation.run(staff(platform, "vera"), logistic.ref)
    other = platform.training.train(staff(platform, "dana"), EXAMPLES / "german_credit_pd.yaml")
    with pytest.raises(InvalidInputError, match=rf"{run.run_id} validated {logistic.ref}"):
        platform.oversight.record_validation(vera, other.ref, passed=True, summary="x",
                                             run_id=run.run_id)


def test_policy_of_another_domain_is_refused(platform: Platform,
                                             logistic: ModelVersion) -> None:
    """A fraud policy cannot judge a credit model; nothing is stored."""
    fraud = Path(__file__).parents[3] / "src" / "bankml" / "validation" / "policies" / \
        "fraud.yaml"
    with pytest.raises(InvalidInputError, match="is a fraud policy"):
        platform.validation.run(staff(platform, "vera"), logistic.ref, policy=fraud)
    assert platform.validation.runs(logistic.ref) == []


def test_fresh_sample_is_tested_too(platform: Platform, logistic: ModelVersion,
                                    tmp_path: Path) -> None:
    """`sample` adds the statistical tests on the given rows as their own population."""
    rows, _ = out_of_time(platform, logistic)
    path = tmp_path / "sample.parquet"
    rows.to_parquet(path)
    result = platform.validation.result(
        platform.validation.run(staff(platform, "vera"), logistic.ref, sample=path))
    by_population = {(t.test, t.population): t.value for t in result.tests}
    assert result.scope.sample is not None
    assert (result.scope.sample.path, result.scope.sample.rows) == (str(path), len(rows))
    assert by_population[("discrimination.auc", "sample")] == pytest.approx(
        by_population[("discrimination.auc", "out_of_time")], abs=1e-12)


def test_report_holds_the_key_numbers(platform: Platform, logistic: ModelVersion) -> None:
    """The HTML states the opinion, AUC and digests; the PDF is a PDF."""
    run = platform.validation.run(staff(platform, "vera"), logistic.ref)
    result = platform.validation.result(run)
    page = to_html(result, [])
    auc = next(t for t in result.tests if t.test == "discrimination.auc").value

    assert run.opinion.label in page
    assert f"{auc:.4f}" in page
    assert result.scope.snapshot_sha256 in page
    assert f"bankml validate {logistic.ref}" in page
    assert page.count("<svg") == 5
    assert to_pdf(result, []).startswith(b"%PDF")


def on_csv(tmp_path: Path, *replacements: tuple[str, str]) -> tuple[pd.DataFrame, Path]:
    """The German credit data in a CSV file beside a copy of the example spec reading it;
    `exposure` (the credit amount) is a column no input reads."""
    frame = load_german_credit(None).frame
    frame = frame.assign(exposure=frame["credit_amount"])
    frame.to_csv(tmp_path / "applications.csv", index=False)
    text = (EXAMPLES / "german_credit_pd.yaml").read_text().replace(
        "dataset: german_credit ", "path: applications.csv ")
    for old, new in replacements:
        text = text.replace(old, new)
    (tmp_path / "spec.yaml").write_text(text)
    return frame, tmp_path / "spec.yaml"


def test_evidence_is_never_joined_on_a_repeated_key(platform: Platform,
                                                    tmp_path: Path) -> None:
    """A source that now repeats a key (the file changed after training) is refused with
    the rule, not joined to whichever of the rows comes first: here the value column,
    which validation reads from the source."""
    frame, spec = on_csv(tmp_path, ("  label: default\n",
                                    "  label: default\n  value: exposure\n"))
    version = platform.training.train(staff(platform, "dana"), spec)
    late = frame[pd.to_datetime(frame["application_date"], utc=True) >= TEST_FROM].iloc[:1]
    pd.concat([late.assign(exposure=1), frame]).to_csv(tmp_path / "applications.csv",
                                                             index=False)

    with pytest.raises(InvalidInputError, match=r"2 rows of the model's source share a key "
                       r"\(row_id \+ application_date\)") as caught:
        platform.validation.run(validator(platform), version.ref)

    assert caught.value.rule == "validation.join_unique"
    assert platform.validation.runs(version.ref) == []


def test_protected_attributes_are_read_as_training_kept_them(platform: Platform,
                                                             tmp_path: Path) -> None:
    """Training snapshots the protected attributes with their own digest: editing the
    source in place afterwards changes no fairness figure (they equal fairlearn's on the
    data as trained), and reproduce names the change (the model itself is identical)."""
    frame, spec = on_csv(tmp_path)
    version = platform.training.train(staff(platform, "dana"), spec)
    frame.assign(sex="female").to_csv(tmp_path / "applications.csv", index=False)

    result = platform.validation.result(platform.validation.run(validator(platform),
                                                                version.ref))
    reproduced = platform.training.reproduce(staff(platform, "dana"), version.ref)

    _, scores = out_of_time(platform, version)
    rows = frame[pd.to_datetime(frame["application_date"], utc=True) >= TEST_FROM]
    labels = rows["default"].to_numpy()
    reference = MetricFrame(metrics=selection_rate, y_true=1 - labels,
                            y_pred=(scores < 0.45).astype(int),
                            sensitive_features=rows["sex"].to_numpy()).by_group
    [sex] = [r for r in result.out_of_time.fairness if r.attribute == "sex"]
    assert {g.group: g.selection_rate for g in sex.groups} == pytest.approx(
        {f"sex={group}": rate for group, rate in reference.items()}, abs=1e-12)
    assert version.manifest is not None
    assert version.manifest.protected_snapshot_sha256 is not None
    assert [d.input for d in reproduced.differences] == ["protected_sha256"]
    assert "protected_sha256" in reproduced.verdict


def test_a_developers_run_is_a_self_test_never_independent_validation(
        platform: Platform) -> None:
    """A developer who also holds the validator role may run the battery on their own
    model: the run is marked a developer self-test, the report says so and shows the
    independent run once there is one, with a section on who concluded what on which run."""
    both = person(platform, "devon", Role.DATA_SCIENTIST, Role.VALIDATOR)
    version = platform.training.train(both, EXAMPLES / "german_credit_pd.yaml")
    own = platform.validation.run(both, version.ref)
    [event] = [e for e in audit_events(platform, subject=f"model:{version.ref}")
               if e.action == "validation.run"]
    alone = platform.reports.write_validation(validator(platform), version.ref).html.read_text()
    vera = validator(platform)
    independent = platform.validation.run(vera, version.ref)
    platform.oversight.record_validation(vera, version.ref, passed=True, summary="fit",
                                         run_id=independent.run_id)

    report = platform.reports.write_validation(vera, version.ref)
    page = report.html.read_text()

    assert (own.self_test, independent.self_test, event.payload["self_test"]) == (
        True, False, True)
    assert platform.validation.get(own.run_id).self_test is True
    assert "Developer self-test</b> by devon" in alone
    assert "not independent validation" in alone
    assert "Validated by" not in alone + page
    assert report.run.run_id == independent.run_id
    assert f"signed off by vera on {independent.created_at[:10]}: passed" in page
    assert "10. Sign-offs" in page
    assert f"{independent.run_id} (this run)" in page


def test_a_moved_source_is_named_with_data(platform: Platform, tmp_path: Path) -> None:
    """When the source file has moved, validate and reproduce say so and take `data`: the
    digests decide that it holds the same rows."""
    _, spec = on_csv(tmp_path, ("  label: default\n", "  label: default\n  value: exposure\n"))
    version = platform.training.train(staff(platform, "dana"), spec)
    moved = tmp_path / "archive" / "applications.csv"
    moved.parent.mkdir()
    (tmp_path / "applications.csv").rename(moved)

    with pytest.raises(InvalidInputError, match=r"does not exist; if it moved, name where "
                       r"it is now \(--data PATH\)"):
        platform.validation.run(validator(platform), version.ref)
    run = platform.validation.run(validator(platform), version.ref, data=moved)
    reproduced = platform.training.reproduce(staff(platform, "dana"), version.ref, data=moved)

    assert platform.validation.result(run).reproduce.command.endswith(f"--data {moved}")
    assert reproduced.is_identical
    assert reproduced.differences == []


def test_woe_scorecard_report_ranks_its_inputs_by_shap(platform: Platform,
                                                       tmp_path: Path) -> None:
    """The shipped German example with `woe_binning` is explained: the stored global
    importance of each input is mean |coef_j (woe_j(x) - background mean woe_j)| over the
    explained rows, and the report shows it rather than "Not computed"."""
    text = (EXAMPLES / "german_credit_pd.yaml").read_text()
    spec = tmp_path / "woe.yaml"
    spec.write_text(text.replace("preprocessing:\n", "preprocessing:\n  woe_binning: {bins: 4}\n"))
    version = platform.training.train(staff(platform, "dana"), spec)
    result = platform.validation.result(platform.validation.run(validator(platform),
                                                                version.ref))
    explained = result.out_of_time.charts["explanations"]
    rows, _ = out_of_time(platform, version)
    assert version.manifest is not None
    snapshot = pd.read_parquet(platform.artifacts.location(
        str(version.manifest.dataset_snapshot_sha256)))
    train = split_dataset(load_spec(spec), snapshot)["train"][version.inputs]
    background = sample_background(train.reset_index(drop=True), rows=200, seed=0).frame
    model = platform.registry.load(version)
    explained_rows = rows[version.inputs].sample(n=min(500, len(rows)), random_state=0)
    contributions = model.estimator.coef_[0] * (
        model.preprocess.transform(explained_rows)
        - model.preprocess.transform(background).mean(axis=0))
    by_hand = dict(zip(version.inputs, np.abs(contributions).mean(axis=0), strict=True))

    [test] = [t for t in result.tests if t.test == "soundness.explainable"]
    assert test.verdict == Verdict.GREEN
    stored = {i["feature"]: i["mean_abs_contribution"] for i in explained["importance"]}
    assert stored == pytest.approx(by_hand, abs=1e-9)
    page = to_html(result, [])
    assert "Not computed" not in page
    assert f"Method linear ({explained['explainer_version']})" in page


def test_another_banks_columns_are_read_as_its_spec_declares(platform: Platform,
                                                             tmp_path: Path) -> None:
    """Coded `SEX` (1/2) is named by the spec's labels against its declared reference, and
    selection rates equal fairlearn's on the named groups; `AGE`, numeric and not banded
    by the spec, is cut at the policy's default bands with a warning on the record, not
    tested as one group per year; without declared directions the record says that
    monotonicity was not tested."""
    frame = load_german_credit(None).frame.rename(columns={"age_years": "AGE"})
    frame["SEX"] = frame["sex"].map({"male": 1, "female": 2})
    frame.drop(columns=["sex"]).to_csv(tmp_path / "applications.csv", index=False)
    text = (EXAMPLES / "german_credit_pd.yaml").read_text()
    start, end = text.index("  protected_attributes:"), text.index("\nsource:")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        text[:start] + "  protected_attributes:\n    - AGE\n"
        "    - {name: SEX, labels: {1: male, 2: female}, reference: female}\n"
        + text[end:].replace("dataset: german_credit ", "path: applications.csv "))
    version = platform.training.train(staff(platform, "dana"), spec)

    result = platform.validation.result(platform.validation.run(validator(platform),
                                                                version.ref))

    fairness = {f.attribute: f for f in result.out_of_time.fairness}
    assert isinstance(fairness["SEX"], SelectionFairness)
    assert fairness["SEX"].reference == "SEX=female"
    rows, scores = out_of_time(platform, version)
    labels = rows["default"].to_numpy()
    reference = MetricFrame(metrics=selection_rate, y_true=1 - labels,
                            y_pred=(scores < 0.45).astype(int),
                            sensitive_features=rows["sex"].to_numpy()).by_group
    stored = {g.group: g.selection_rate for g in fairness["SEX"].groups}
    assert stored == {f"SEX={k}": pytest.approx(v, abs=1e-12) for k, v in reference.items()}
    assert {g.group for g in fairness["AGE"].groups} <= {
        "AGE=<25", "AGE=25-35", "AGE=35-50", "AGE=50-65", "AGE=>=65"}
    notes = result.out_of_time.charts["declarations"]
    assert notes["sources"]["bands[AGE]"] == "policy default"
    assert any("AGE is numeric and its spec declares no bands" in w for w in notes["warnings"])
    assert any("monotonicity is not tested" in w for w in notes["warnings"])
    assert "soundness.monotonicity" not in {t.test for t in result.tests}


@pytest.mark.parametrize("split", ["{test_share: 0.3}", "{test_share: 0.3, group_by: branch}"])
def test_data_without_dates_splits_at_random_and_the_report_says_it_is_weaker(
        platform: Platform, tmp_path: Path, split: str) -> None:
    """No date column: a seeded random (or grouped) test set; the stored AUC equals
    scikit-learn's on the test rows, and the report says this is weaker evidence."""
    frame = load_german_credit(None).frame.drop(columns=["application_date"])
    frame["branch"] = frame["row_id"] % 40
    frame.to_csv(tmp_path / "applications.csv", index=False)
    text = (EXAMPLES / "german_credit_pd.yaml").read_text()
    text = text.replace("dataset: german_credit ", "path: applications.csv ").replace(
        "  event_timestamp: application_date\n", "")
    start, end = text.index("  out_of_time:"), text.index("  holdout:")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text[:start] + f"  random: {split}\n" + text[end:])
    version = platform.training.train(staff(platform, "dana"), spec)
    result = platform.validation.result(platform.validation.run(validator(platform),
                                                                version.ref))
    assert version.manifest is not None
    snapshot = pd.read_parquet(platform.artifacts.location(
        str(version.manifest.dataset_snapshot_sha256)))
    sets = split_dataset(load_spec(spec), snapshot)
    test = sets["test"]
    scores = platform.registry.load(version).predict_proba(test[version.inputs])[:, 1]

    auc = next(t for t in result.tests if t.test == "discrimination.auc").value
    assert auc == pytest.approx(roc_auc_score(test["default"], scores), abs=1e-12)
    assert len(test) == pytest.approx(0.3 * len(frame), abs=0.05 * len(frame))
    if "group_by" in split:
        assert not set(test["branch"]) & set(sets["train"]["branch"])
    report = to_html(result, [])
    assert "weaker evidence than an out-of-time test" in report
    assert "training vs random holdout rows" in report
    # named for what they are, in the stored result as in the report
    assert result.scope.test_population == "holdout_random"
    assert {t.population for t in result.tests} == {"holdout_random"}
    assert result.out_of_time.auc is not None
    assert result.out_of_time.auc.auc == auc


def test_the_model_card_shows_runs_signoff_fairness_and_approvals(
        platform: Platform, logistic: ModelVersion) -> None:
    """The card of a version in prod lists its validation runs (a developer's self-test
    marked), the sign-off and its run, that run's fairness tests and who approved what."""
    vera, dana = validator(platform), staff(platform, "dana")
    signed = platform.validation.run(vera, logistic.ref)
    platform.oversight.record_validation(vera, logistic.ref, passed=True,
                                         summary="fit for use", run_id=signed.run_id)
    platform.oversight.request_transition(dana, logistic.ref, Stage.STAGING, reason="ok")
    request = platform.oversight.request_transition(dana, logistic.ref, Stage.PROD,
                                                    reason="go")
    platform.oversight.approve(staff(platform, "mira"), request.request_id,
                               role=Role.MODEL_RISK)
    fairness = [t for t in platform.validation.result(signed).tests
                if t.test.startswith("fairness.")]

    card = platform.registry.card(logistic.ref).markdown()

    assert f"| `{signed.run_id}` | {signed.created_at} | vera |" in card
    assert f"| vera | passed | passed | `{signed.run_id}` | fit for use |" in card
    assert f"Fairness tests of validation run `{signed.run_id}`" in card
    assert fairness
    for test in fairness:
        value = "n/a" if np.isnan(test.value) else f"{test.value:.4f}"
        assert f"| {test.test} | {test.population} | {value} | {test.verdict} |" in card
    assert f"| #{request.request_id} | -> prod | dana | executed | model_risk: approved by " \
           "mira (" in card
    assert "No fairness test is recorded" not in card
