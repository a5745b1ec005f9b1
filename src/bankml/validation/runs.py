"""Validation runs: the battery on a version's out-of-time rows, stored as evidence.

A run rebuilds the out-of-time test rows from what training recorded (the dataset
snapshot in the artifact store and the spec in the manifest; nothing is retrained),
scores them with the registered artifact, runs the domain's battery under a versioned
policy, compares with the champion (or a named version) and stores the whole result as a
JSON artifact with a row in the metadata store, audited in the same transaction.
"""

from __future__ import annotations

import io
import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankml.access import acting, require
from bankml.arrays import FloatArray
from bankml.core.canonical import to_plain, utc_timestamp
from bankml.core.domains import profile
from bankml.core.errors import InvalidInputError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.manifest import Manifest
from bankml.core.ports import ArtifactStore, MetadataStore
from bankml.core.registry import Model, ModelVersion
from bankml.core.serialisation import result_from_json, result_to_json
from bankml.core.validation import (
    HOLDOUT_RANDOM,
    OUT_OF_TIME,
    ChangeSincePrevious,
    PolicyIdentity,
    PopulationScope,
    PreviousRun,
    ReproductionPack,
    Scope,
    ValidationResult,
    ValidationRun,
    ValidationTestResult,
    Verdict,
)
from bankml.registry import Registry
from bankml.training.allowlist import SCIKIT_LEARN_CLASSIFIERS, EstimatorAllowlist
from bankml.training.data import READERS, check_moved, dataset_digest, read_source
from bankml.training.pipeline import row_identity, split_dataset
from bankml.training.spec import LoadedSpec, PipelineSpec, spec_from_manifest
from bankml.validation.battery import BatteryResult, Population, Reference, run_battery
from bankml.validation.declarations import Declarations, declarations_for
from bankml.validation.policy import ValidationPolicy, default_policy, load_policy


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Subject:
    """The version under validation with what it is tested on: its spec, the scorer and
    training's rows, rebuilt from the snapshot (out-of-time rows with the protected
    attributes and the value column joined)."""

    version: ModelVersion
    model: Model
    manifest: Manifest
    loaded: LoadedSpec
    scorer: Any  # the registered artifact, loaded only after its digest matched
    train: pd.DataFrame
    test: pd.DataFrame
    snapshot_sha256: str

    @property
    def label(self) -> str:
        return self.loaded.spec.source.label

    @property
    def value(self) -> str | None:
        return self.loaded.spec.source.value

    def score(self, frame: pd.DataFrame) -> FloatArray:
        return _score(self.scorer, frame)


class Validation:
    """Runs the battery on versions and keeps every run as evidence."""

    def __init__(self, metadata: MetadataStore, registry: Registry, artifacts: ArtifactStore,
                 *, datasets_dir: Path | None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 estimator_allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS) -> None:
        self._metadata, self._registry, self._artifacts = metadata, registry, artifacts
        self._datasets_dir, self._clock = datasets_dir, clock
        self._allowlist = estimator_allowlist

    def run(self, by: Principal, ref: str, *, against: str | None = None,
            policy: Path | ValidationPolicy | None = None,
            sample: Path | None = None, data: Path | None = None) -> ValidationRun:
        """Validate `ref` on its out-of-time rows (and `sample` if given); store and audit.

        `data` is where the model's source file is now, if it has moved (read only for
        what training did not snapshot: the value column, and the protected attributes of
        versions trained before they were snapshotted)."""
        require(self._metadata, by, Permission.VALIDATION_RUN, f"model:{ref}")
        actor = by.name
        version = self._registry.get(ref)
        model = self._registry.model(version.name)
        chosen = _policy_for(model, version, policy)
        subject = self._subject(version, model, data)
        compared = self._compared(version, against)
        reference = self._reference(subject, compared)
        batteries = {_test_population(subject.loaded.spec):
                     _main_battery(subject, chosen, reference)}
        sample_scope = None
        if sample is not None:
            batteries["sample"], sample_scope = _sample_battery(subject, chosen, reference,
                                                                sample)
        tests = tuple(test for battery in batteries.values() for test in battery.tests)
        result = ValidationResult(
            run_id=secrets.token_hex(8), model=version.ref, domain=model.domain,
            model_card=model, created_at=utc_timestamp(self._clock()), created_by=actor,
            policy=_identity(chosen), opinion=chosen.opinion.opinion(tests),
            fairness_passed=_fairness_passed(tests),
            against=compared.ref if compared else None,
            scope=_scope(subject, sample_scope), tests=tests,
            details={name: battery.details for name, battery in batteries.items()},
            previous=_previous_summary(self._previous(version.name), tests),
            reproduce=_pack(subject, chosen, compared,
                            command=_command(version.ref, against, policy, sample, data)))
        return self._store(by, result, chosen,
                           self_test=by.name in {model.developer, version.created_by})

    def get(self, run_id: str) -> ValidationRun:
        """Raises NotFoundError."""
        with self._metadata.reading() as tx:
            return tx.validation_runs.get(run_id)

    def runs(self, ref: str | None = None, *, model: str | None = None) -> list[ValidationRun]:
        """Runs of one version (`ref`) or of every version of `model`, oldest first."""
        if ref is not None:
            version = self._registry.get(ref)
            with self._metadata.reading() as tx:
                return tx.validation_runs.of(version.name, version.number)
        with self._metadata.reading() as tx:
            return tx.validation_runs.of(str(model))

    def latest(self, ref: str) -> ValidationRun:
        """The newest run of a version; NotFoundError when it was never validated."""
        found = self.runs(ref)
        if not found:
            raise NotFoundError("validation run", ref, f"Run `bankml validate {ref}` first.")
        return found[-1]

    def result(self, run: ValidationRun) -> ValidationResult:
        """The full stored result of a run, verified against its digest, of any layout."""
        return result_from_json(self._artifacts.get(run.result_sha256))

    def development_sample(self, ref: str) -> tuple[pd.DataFrame, FloatArray]:
        """The inputs of the rows `ref` was trained on and its scores on them, rebuilt from
        the stored snapshot as a run rebuilds them: production monitoring's baseline."""
        version = self._registry.get(ref)
        manifest = _manifest_of(version)
        loaded = spec_from_manifest(manifest, source=f"manifest of {version.ref}",
                                    allowlist=self._allowlist)
        sets, _ = self._sets(version, manifest, loaded)
        inputs = sets["train"][version.inputs].reset_index(drop=True)
        return inputs, _score(self._registry.load(version), inputs)

    def validated_auc(self, ref: str) -> tuple[float, str] | None:
        """The AUC `ref` was last validated with (out of time), else its development
        holdout AUC, and where it comes from."""
        version = self._registry.get(ref)
        with self._metadata.reading() as tx:
            runs = tx.validation_runs.of(version.name, version.number)
        if runs:
            auc = self.result(runs[-1]).out_of_time.auc
            if auc is not None and auc.auc is not None:
                return auc.auc, f"validation run {runs[-1].run_id}"
        holdout = version.metrics.get("holdout.auc")
        return None if holdout is None else (float(holdout), "development holdout AUC")

    # -- internals -----------------------------------------------------------------------

    def _subject(self, version: ModelVersion, model: Model,
                 data: Path | None = None) -> _Subject:
        """The version, its recorded spec and training's rows; the registered artifact."""
        manifest = _manifest_of(version)
        loaded = spec_from_manifest(manifest, source=f"manifest of {version.ref}",
                                    allowlist=self._allowlist)
        check_moved(loaded, data)
        sets, snapshot_sha256 = self._sets(version, manifest, loaded)
        value = loaded.spec.source.value
        protected = list(model.protected_attributes)
        test = sets["test"]
        if manifest.protected_snapshot_sha256 is not None:  # as training kept them
            test = _joined(test, self._protected(version, manifest), row_identity(loaded))
            protected = []
        test = self._with_source_columns(
            loaded, test, [*protected, *([value] if value else [])], data)
        return _Subject(version=version, model=model, manifest=manifest, loaded=loaded,
                        scorer=self._registry.load(version), train=sets["train"], test=test,
                        snapshot_sha256=snapshot_sha256)

    def _reference(self, subject: _Subject, compared: ModelVersion | None) -> Reference:
        """What the out-of-time rows are compared with: training's rows and scores, the
        compared version's scores on the same rows, the initial AUC (ECB PD-07)."""
        inputs = subject.train[subject.version.inputs]
        initial = self._initial_auc(subject.version)
        return Reference(
            inputs=inputs, scores=subject.score(inputs),
            champion=compared.ref if compared else None,
            champion_scores=(_score(self._registry.load(compared),
                                    _inputs_for(compared, subject.test))
                             if compared else None),
            auc_initial=None if initial is None else initial[0],
            auc_initial_source="" if initial is None else initial[1])

    def _store(self, by: Principal, result: ValidationResult, policy: ValidationPolicy, *,
               self_test: bool) -> ValidationRun:
        """The result as an artifact, and its run row and audit event in one transaction."""
        digest = self._artifacts.put(result_to_json(result).encode())
        counts = result.verdict_counts()
        name, _, number = result.model.rpartition("@")
        run = ValidationRun(
            run_id=result.run_id, model=name, version=int(number),
            created_at=result.created_at, created_by=by.name, policy_id=policy.policy_id,
            policy_version=policy.version, opinion=result.opinion,
            fairness_passed=result.fairness_passed, greens=counts[Verdict.GREEN],
            ambers=counts[Verdict.AMBER], reds=counts[Verdict.RED], result_sha256=digest,
            against=result.against, self_test=self_test)
        with acting(self._metadata, by, Permission.VALIDATION_RUN,
                    f"model:{result.model}") as tx:
            tx.validation_runs.add(run)
            tx.audit.record(by.name, "validation.run", f"model:{result.model}", {
                "run_id": run.run_id, "opinion": int(run.opinion), "policy": run.policy_id,
                "policy_version": run.policy_version, "result_sha256": digest,
                "against": run.against, "verdicts": {str(k): v for k, v in counts.items()},
                "fairness_passed": run.fairness_passed, "self_test": run.self_test})
        return run

    def _sets(self, version: ModelVersion, manifest: Manifest, loaded: LoadedSpec
              ) -> tuple[dict[str, pd.DataFrame], str]:
        """Training's split, rebuilt from the stored snapshot (verified by its digest)."""
        digest = manifest.dataset_snapshot_sha256
        if not digest:
            raise NotFoundError("dataset snapshot", version.ref, "Only versions trained by "
                                "`bankml train` keep the rows a validation reads.")
        dataset = pd.read_parquet(io.BytesIO(self._artifacts.get(digest)))
        if dataset_digest(dataset) != version.dataset_sha256:
            raise InvalidInputError("dataset snapshot", f"{digest[:12]} does not hash to the "
                                    f"dataset {version.dataset_sha256[:12]} of {version.ref}",
                                    rule="validation.snapshot_intact")
        return split_dataset(loaded, dataset), digest

    def _protected(self, version: ModelVersion, manifest: Manifest) -> pd.DataFrame:
        """The protected attributes training snapshotted, verified by their digest."""
        frame = pd.read_parquet(io.BytesIO(self._artifacts.get(
            str(manifest.protected_snapshot_sha256))))
        if dataset_digest(frame) != manifest.protected_sha256:
            raise InvalidInputError("protected snapshot", f"does not hash to the protected "
                                    f"attributes {str(manifest.protected_sha256)[:12]} "
                                    f"recorded for {version.ref}",
                                    rule="validation.snapshot_intact")
        return frame

    def _with_source_columns(self, loaded: LoadedSpec, rows: pd.DataFrame,
                             columns: list[str], data: Path | None) -> pd.DataFrame:
        """Protected attributes (and the value column) joined from the source on the entity
        keys, for testing; columns the rows already hold are kept as they are."""
        columns = [c for c in dict.fromkeys(columns) if c not in rows.columns]
        if not columns:
            return rows
        keys = row_identity(loaded)
        source = read_source(loaded, self._datasets_dir, data=data).frame
        missing = [c for c in [*keys, *columns] if c not in source.columns]
        if missing:
            raise InvalidInputError("source", f"{missing} are not in the model's source "
                                    "data; protected attributes and the value column are "
                                    "read from there", rule="validation.source_columns")
        return _joined(rows, source[[*keys, *columns]], keys)

    def _compared(self, version: ModelVersion, against: str | None) -> ModelVersion | None:
        if against is not None:
            other = self._registry.get(against)
            if other.ref == version.ref:
                raise InvalidInputError("against", f"{against} is the version validated",
                                        rule="validation.against_other")
            return other
        champion = self._registry.aliases(version.name).get("champion")
        if champion is None or champion == version.number:
            return None
        return self._registry.get(f"{version.name}@{champion}")

    def _initial_auc(self, version: ModelVersion) -> tuple[float, str] | None:
        """ECB PD-07's AUC_init and where it comes from: the model's initial validation
        (the run signed off at its first approval for production, recorded then), else,
        before that approval, the version's development holdout AUC. An exploratory run
        is never the baseline."""
        with self._metadata.reading() as tx:
            baseline = tx.validation_runs.baseline(version.name)
            run = None if baseline is None else tx.validation_runs.get(baseline.run_id)
        if baseline is not None and run is not None:
            auc = self.result(run).out_of_time.auc
            if auc is not None and auc.auc is not None:
                return auc.auc, (f"initial validation run {run.run_id} ({run.ref}, signed "
                                 f"off by {baseline.validator}, first approved for prod by "
                                 f"request #{baseline.request_id})")
        holdout = version.metrics.get("holdout.auc")
        return None if holdout is None else (
            float(holdout), "development holdout AUC (no initial validation yet: the model "
            "has not been approved for prod)")

    def _previous(self, name: str) -> ValidationResult | None:
        with self._metadata.reading() as tx:
            earlier = tx.validation_runs.of(name)
        return self.result(earlier[-1]) if earlier else None


def _joined(rows: pd.DataFrame, evidence: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`rows` with the columns of `evidence` joined on the row identity `keys`: never
    ambiguously (a key the evidence repeats) and never partly (a row it lacks)."""
    repeated = evidence.duplicated(keys, keep=False)
    if repeated.any():  # never guess which of the rows the evidence belongs to
        raise InvalidInputError("source", f"{int(repeated.sum())} rows of the model's "
                                f"source share a key ({' + '.join(keys)}); protected "
                                "attributes are joined on it and would reach the wrong "
                                "rows", rule="validation.join_unique")
    joined = rows.merge(evidence, on=keys, how="left", validate="one_to_one",
                        indicator="_found")
    unmatched = int((joined.pop("_found") != "both").sum())
    if unmatched:
        raise InvalidInputError("source", f"{unmatched} of {len(rows)} rows validated "
                                f"have no row of the model's source with their key "
                                f"({' + '.join(keys)})", rule="validation.join_complete")
    return joined.set_axis(rows.index)


def _policy_for(model: Model, version: ModelVersion,
                policy: Path | ValidationPolicy | None) -> ValidationPolicy:
    """The policy given (a file or loaded), else the domain's; one of another domain's
    battery is refused."""
    chosen = (policy if isinstance(policy, ValidationPolicy)
              else load_policy(policy) if policy is not None
              else default_policy(model.domain))
    if profile(chosen.domain).battery != profile(model.domain).battery:
        raise InvalidInputError("policy", f"{chosen.policy_id} is a {chosen.domain} "
                                f"policy; {version.ref} is a {model.domain} model",
                                rule="validation_policy.domain")
    return chosen


def _main_battery(subject: _Subject, policy: ValidationPolicy,
                  reference: Reference) -> BatteryResult:
    """The full battery on the out-of-time rows."""
    model = subject.model
    population = _population(_test_population(subject.loaded.spec), subject.scorer,
                             subject.test,
                             inputs=subject.version.inputs, label=subject.label,
                             protected=list(model.protected_attributes), value=subject.value,
                             weight=subject.loaded.spec.source.weight)
    return run_battery(policy, model.domain, population, reference, model=subject.score,
                       explain_model=subject.scorer,
                       decision_cutoffs=subject.loaded.spec.decision_policy.cutoffs(),
                       declared=_declarations(subject, policy, population))


def _declarations(subject: _Subject, policy: ValidationPolicy,
                  population: Population) -> Declarations:
    """Bands, labels, references and directions: the spec's over the policy's defaults."""
    return declarations_for(subject.loaded.spec, policy, inputs=subject.version.inputs,
                            protected=population.protected, model=subject.version.ref)


def _sample_battery(subject: _Subject, policy: ValidationPolicy, reference: Reference,
                    sample: Path) -> tuple[BatteryResult, PopulationScope]:
    """The statistical tests on a fresh sample, and what the sample held."""
    inputs, label, value = subject.version.inputs, subject.label, subject.value
    fresh = _read_sample(sample, [*inputs, label])
    population = _population(
        "sample", subject.scorer, fresh, inputs=inputs, label=label,
        protected=[c for c in subject.model.protected_attributes if c in fresh.columns],
        value=value if value in fresh.columns else None)
    battery = run_battery(policy, subject.model.domain, population,
                          Reference(inputs=reference.inputs, scores=reference.scores),
                          model=subject.score, explain_model=subject.scorer,
                          decision_cutoffs=subject.loaded.spec.decision_policy.cutoffs(),
                          full=False, declared=_declarations(subject, policy, population))
    scope = replace(_population_scope(fresh, label, None), path=str(sample),
                    sha256=dataset_digest(fresh))
    return battery, scope


def _identity(policy: ValidationPolicy) -> PolicyIdentity:
    return PolicyIdentity(policy_id=policy.policy_id, version=policy.version,
                          sha256=policy.sha256, effective=policy.effective,
                          opinion_tag=policy.opinion.tag, opinion_source=policy.opinion.source)


def _fairness_passed(tests: Iterable[ValidationTestResult]) -> bool:
    """No fairness test is red."""
    return not any(t.verdict == Verdict.RED and t.test.startswith("fairness.") for t in tests)


def _scope(subject: _Subject, sample: PopulationScope | None) -> Scope:
    """The rows tested and the facts a reader checks them by."""
    spec = subject.loaded.spec
    return Scope(
        train=_population_scope(subject.train, subject.label, subject.loaded),
        out_of_time=_population_scope(subject.test, subject.label, subject.loaded),
        sample=sample, dataset_sha256=subject.version.dataset_sha256,
        snapshot_sha256=subject.snapshot_sha256, test_from=_test_from(spec),
        protected_attributes=subject.model.protected_attributes,
        decision_cutoffs=spec.decision_policy.cutoffs(), test_population=_test_population(spec))


def _test_population(spec: PipelineSpec) -> str:
    """What the test rows are called: out of time, or a random holdout (weaker evidence)."""
    return HOLDOUT_RANDOM if spec.split.random is not None else OUT_OF_TIME


def _test_from(spec: PipelineSpec) -> str:
    """The out-of-time date; for a random split, what the test rows are instead."""
    if spec.split.out_of_time is not None:
        return str(spec.split.out_of_time.test_from)
    declared = spec.split.random
    share = declared.test_share if declared is not None else 0.0
    grouped = f", by {declared.group_by}" if declared is not None and declared.group_by else ""
    return f"random {share:.0%} of the rows (seed {spec.seed}{grouped})"


def _pack(subject: _Subject, policy: ValidationPolicy, compared: ModelVersion | None, *,
          command: str) -> ReproductionPack:
    """The command that re-runs this validation and the digest of every input."""
    version = subject.version
    return ReproductionPack(
        command=command, artifact_sha256=version.artifact_sha256,
        dataset_sha256=version.dataset_sha256, snapshot_sha256=subject.snapshot_sha256,
        policy_sha256=policy.sha256, spec_sha256=subject.manifest.spec_sha256,
        code=subject.manifest.code, seed=policy.parameters.seed,
        against_artifact_sha256=compared.artifact_sha256 if compared else None)


def _manifest_of(version: ModelVersion) -> Manifest:
    if version.manifest is None:
        raise NotFoundError("manifest", version.ref, "Only versions built by `bankml train` "
                            "record the split a validation needs.")
    return version.manifest


def _score(model: Any, frame: pd.DataFrame) -> FloatArray:
    return np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)


def _inputs_for(version: ModelVersion, frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in version.inputs if c not in frame.columns]
    if missing:
        raise InvalidInputError("against", f"{version.ref} needs inputs {missing} that the "
                                "validated rows do not hold; compare models on the same "
                                "inputs", rule="validation.against_inputs")
    return frame[version.inputs]


def _population(name: str, model: Any, rows: pd.DataFrame, *, inputs: list[str],
                label: str, protected: list[str], value: str | None,
                weight: str | None = None) -> Population:
    return Population(name=name, inputs=rows[inputs].reset_index(drop=True),
                      labels=rows[label].to_numpy(dtype=np.int64),
                      scores=_score(model, rows[inputs]),
                      protected=rows[protected].reset_index(drop=True),
                      values=None if value is None else rows[value].to_numpy(np.float64),
                      weights=None if weight is None else rows[weight].to_numpy(np.float64))


def _read_sample(path: Path, needed: list[str]) -> pd.DataFrame:
    reader = READERS.get(path.suffix.lower())
    if reader is None or not path.is_file():
        raise InvalidInputError("sample", f"{path}: give an existing Parquet or CSV file",
                                rule="validation.sample_file")
    frame = reader(path)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InvalidInputError("sample", f"{path} lacks the columns {missing}",
                                rule="validation.sample_file")
    return frame


def _population_scope(rows: pd.DataFrame, label: str,
                      loaded: LoadedSpec | None) -> PopulationScope:
    """Rows, events and event rate; with the spec, the period the rows' dates span."""
    period = None
    if loaded is not None and loaded.spec.date_column is not None:
        dates = pd.to_datetime(rows[loaded.spec.date_column], utc=True)
        period = (str(dates.min().date()), str(dates.max().date()))
    return PopulationScope(rows=len(rows), events=int(rows[label].sum()),
                           event_rate=float(rows[label].mean()), period=period)


def _previous_summary(previous: ValidationResult | None,
                      tests: Iterable[ValidationTestResult]) -> PreviousRun | None:
    """The model's previous run and, test by test, its value and verdict then and now."""
    if previous is None:
        return None
    before = {(t.test, t.population): t for t in previous.tests}
    deltas = []
    for test in tests:
        old = before.get((test.test, test.population))
        if old is not None and not math.isnan(old.value):
            deltas.append(ChangeSincePrevious(
                test=test.test, population=test.population, before=old.value,
                now=to_plain(test.value), verdict_before=old.verdict,
                verdict_now=test.verdict))
    return PreviousRun(run_id=previous.run_id, model=previous.model,
                       created_at=previous.created_at, opinion=previous.opinion,
                       deltas=tuple(deltas))


def _command(ref: str, against: str | None, policy: Path | ValidationPolicy | None,
             sample: Path | None, data: Path | None) -> str:
    parts = ["bankml", "validate", ref]
    if against:
        parts += ["--against", against]
    if isinstance(policy, Path):
        parts += ["--policy", str(policy)]
    if sample is not None:
        parts += ["--sample", str(sample)]
    if data is not None:
        parts += ["--data", str(data)]
    return " ".join(parts)


__all__ = ["Validation"]
