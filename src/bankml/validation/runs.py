"""Validation runs: the battery on a version's out-of-time rows, stored as evidence.

A run rebuilds the out-of-time test rows from what training recorded (the dataset
snapshot in the artifact store and the spec in the manifest; nothing is retrained),
scores them with the registered artifact, runs the domain's battery under a versioned
policy, compares with the champion (or a named version) and stores the whole result as a
JSON artifact with a row in the metadata store, audited in the same transaction.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.canonical import canonical_json, to_plain, utc_timestamp
from bankml.core.errors import InvalidInputError, NotFoundError
from bankml.core.manifest import Manifest
from bankml.core.ports import ArtifactStore, MetadataStore
from bankml.core.registry import Domain, ModelVersion
from bankml.core.validation import ValidationRun, ValidationTestResult, Verdict
from bankml.registry import Registry
from bankml.training.data import READERS, dataset_digest, read_source
from bankml.training.pipeline import split_dataset
from bankml.training.spec import LoadedSpec, spec_from_manifest
from bankml.validation.battery import Population, Reference, run_battery
from bankml.validation.policy import ValidationPolicy, default_policy, load_policy

_BATTERY_OF = {Domain.CREDIT: "credit", Domain.FRAUD: "alerting", Domain.AML: "alerting",
               Domain.PROPENSITY: "ranking", Domain.OTHER: "ranking"}


class Validation:
    """Runs the battery on versions and keeps every run as evidence."""

    def __init__(self, metadata: MetadataStore, registry: Registry, artifacts: ArtifactStore,
                 *, datasets_dir: Path | None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._registry, self._artifacts = metadata, registry, artifacts
        self._datasets_dir, self._clock = datasets_dir, clock

    def run(self, ref: str, *, against: str | None = None,
            policy: Path | ValidationPolicy | None = None, sample: Path | None = None,
            actor: str) -> ValidationRun:
        """Validate `ref` on its out-of-time rows (and `sample` if given); store and audit."""
        version = self._registry.get(ref)
        model = self._registry.model(version.name)
        chosen = (policy if isinstance(policy, ValidationPolicy)
                  else load_policy(policy) if policy is not None
                  else default_policy(model.domain))
        if _BATTERY_OF[chosen.domain] != _BATTERY_OF[model.domain]:
            raise InvalidInputError("policy", f"{chosen.policy_id} is a {chosen.domain} "
                                    f"policy; {version.ref} is a {model.domain} model",
                                    rule="validation_policy.domain")
        manifest = _manifest_of(version)
        loaded = spec_from_manifest(manifest, source=f"manifest of {version.ref}")
        sets, snapshot_sha256 = self._sets(version, manifest, loaded)
        scorer = self._registry.load(version)
        label = loaded.spec.source.label
        inputs = version.inputs
        protected_columns = list(model.protected_attributes)
        value = loaded.spec.source.value
        test = self._with_source_columns(
            loaded, sets["test"], [*protected_columns, *([value] if value else [])])
        train = sets["train"]
        population = _population("out_of_time", scorer, test, inputs=inputs, label=label,
                                 protected=protected_columns, value=value)
        compared = self._compared(version, against)
        reference = Reference(
            inputs=train[inputs], scores=_score(scorer, train[inputs]),
            champion=compared.ref if compared else None,
            champion_scores=(_score(self._registry.load(compared),
                                    _inputs_for(compared, test))
                             if compared else None),
            **self._initial_auc(version))
        cutoffs = loaded.spec.decision_policy.cutoffs()

        def score(frame: pd.DataFrame) -> Any:
            return _score(scorer, frame)

        main = run_battery(chosen, model.domain, population, reference, model=score,
                           explain_model=scorer, decision_cutoffs=cutoffs)
        batteries = {"out_of_time": main}
        scope: dict[str, Any] = {"out_of_time": _describe(test, label, loaded),
                                 "train": _describe(train, label, loaded)}
        if sample is not None:
            fresh = _read_sample(sample, [*inputs, label])
            scope["sample"] = {**_describe(fresh, label, None), "path": str(sample),
                               "sha256": dataset_digest(fresh)}
            batteries["sample"] = run_battery(
                chosen, model.domain,
                _population("sample", scorer, fresh, inputs=inputs, label=label,
                            protected=[c for c in protected_columns if c in fresh.columns],
                            value=value if value in fresh.columns else None),
                Reference(inputs=reference.inputs, scores=reference.scores), model=score,
                explain_model=scorer, decision_cutoffs=cutoffs, full=False)
        tests = [t for b in batteries.values() for t in b.tests]
        opinion = chosen.opinion.opinion(tests)
        fairness_passed = not any(t.verdict == Verdict.RED and t.test.startswith("fairness.")
                                  for t in tests)
        run_id = secrets.token_hex(8)
        now = utc_timestamp(self._clock())
        previous = self._previous(version.name)
        result = {
            "run_id": run_id, "model": version.ref, "domain": str(model.domain),
            "model_card": model.describe(), "created_at": now, "created_by": actor,
            "policy": {"id": chosen.policy_id, "version": chosen.version,
                       "sha256": chosen.sha256, "effective": chosen.effective,
                       "opinion_rule": {"tag": str(chosen.opinion.tag),
                                        "source": chosen.opinion.source}},
            "opinion": {"level": int(opinion), "label": opinion.label},
            "fairness_passed": fairness_passed,
            "against": compared.ref if compared else None,
            "scope": {**scope, "dataset_sha256": version.dataset_sha256,
                      "snapshot_sha256": snapshot_sha256,
                      "test_from": str(loaded.spec.split.out_of_time.test_from),
                      "protected_attributes": protected_columns,
                      "decision_cutoffs": cutoffs},
            "tests": [_test_json(t) for t in tests],
            "details": {name: b.details for name, b in batteries.items()},
            "previous": _previous_summary(previous, tests),
            "reproduce": {
                "command": _command(version.ref, against, policy, sample),
                "artifact_sha256": version.artifact_sha256,
                "dataset_sha256": version.dataset_sha256, "snapshot_sha256": snapshot_sha256,
                "policy_sha256": chosen.sha256, "spec_sha256": manifest.spec_sha256,
                "code": to_plain(manifest.code),
                "seed": chosen.parameters.seed,
                "against_artifact_sha256": compared.artifact_sha256 if compared else None},
        }
        digest = self._artifacts.put(canonical_json(to_plain(result)).encode())
        counts = {v: sum(t.verdict == v for t in tests) for v in Verdict}
        run = ValidationRun(
            run_id=run_id, model=version.name, version=version.number, created_at=now,
            created_by=actor, policy_id=chosen.policy_id, policy_version=chosen.version,
            opinion=opinion, fairness_passed=fairness_passed, greens=counts[Verdict.GREEN],
            ambers=counts[Verdict.AMBER], reds=counts[Verdict.RED], result_sha256=digest,
            against=compared.ref if compared else None)
        with self._metadata.transaction() as tx:
            tx.validation_runs.add(run)
            tx.audit.record(actor, "validation.run", f"model:{version.ref}", {
                "run_id": run_id, "opinion": int(opinion), "policy": chosen.policy_id,
                "policy_version": chosen.version, "result_sha256": digest,
                "against": run.against, "verdicts": {str(k): v for k, v in counts.items()},
                "fairness_passed": fairness_passed})
        return run

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

    def result(self, run: ValidationRun) -> dict[str, Any]:
        """The full stored result of a run, verified against its digest."""
        loaded: dict[str, Any] = json.loads(self._artifacts.get(run.result_sha256))
        return loaded

    # -- internals -----------------------------------------------------------------------

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

    def _with_source_columns(self, loaded: LoadedSpec, rows: pd.DataFrame,
                             columns: list[str]) -> pd.DataFrame:
        """Protected attributes (and the value column) joined from the source on the entity
        keys, for testing; columns the rows already hold are kept as they are."""
        columns = [c for c in dict.fromkeys(columns) if c not in rows.columns]
        if not columns:
            return rows
        keys = loaded.spec.source.entity
        source = read_source(loaded, self._datasets_dir).frame
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise InvalidInputError("source", f"{missing} are not in the model's source "
                                    "data; protected attributes and the value column are "
                                    "read from there", rule="validation.source_columns")
        joined = rows.merge(source[[*keys, *columns]].drop_duplicates(keys), on=keys,
                            how="left", validate="many_to_one")
        return joined.set_axis(rows.index)

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

    def _initial_auc(self, version: ModelVersion) -> dict[str, Any]:
        """ECB PD-07's AUC_init: the model's first validation run, else the holdout AUC."""
        with self._metadata.reading() as tx:
            earlier = tx.validation_runs.of(version.name)
        if earlier:
            first = self.result(earlier[0])
            auc = first["details"]["out_of_time"].get("auc", {}).get("auc")
            if auc is not None:
                return {"auc_initial": float(auc),
                        "auc_initial_source": f"initial validation run {earlier[0].run_id}"}
        holdout = version.metrics.get("holdout.auc")
        if holdout is None:
            return {}
        return {"auc_initial": float(holdout),
                "auc_initial_source": "development holdout AUC"}

    def _previous(self, name: str) -> dict[str, Any] | None:
        with self._metadata.reading() as tx:
            earlier = tx.validation_runs.of(name)
        return self.result(earlier[-1]) if earlier else None


def _manifest_of(version: ModelVersion) -> Manifest:
    if version.manifest is None:
        raise NotFoundError("manifest", version.ref, "Only versions built by `bankml train` "
                            "record the split a validation needs.")
    return version.manifest


def _score(model: Any, frame: pd.DataFrame) -> Any:
    return np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)


def _inputs_for(version: ModelVersion, frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in version.inputs if c not in frame.columns]
    if missing:
        raise InvalidInputError("against", f"{version.ref} needs inputs {missing} that the "
                                "validated rows do not hold; compare models on the same "
                                "inputs", rule="validation.against_inputs")
    return frame[version.inputs]


def _population(name: str, model: Any, rows: pd.DataFrame, *, inputs: list[str],
                label: str, protected: list[str], value: str | None) -> Population:
    return Population(name=name, inputs=rows[inputs].reset_index(drop=True),
                      labels=rows[label].to_numpy(dtype=np.int64),
                      scores=_score(model, rows[inputs]),
                      protected=rows[protected].reset_index(drop=True),
                      values=None if value is None else rows[value].to_numpy(np.float64))


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


def _describe(rows: pd.DataFrame, label: str, loaded: LoadedSpec | None) -> dict[str, Any]:
    described: dict[str, Any] = {"rows": len(rows), "events": int(rows[label].sum()),
                                 "event_rate": float(rows[label].mean())}
    if loaded is not None:
        dates = pd.to_datetime(rows[loaded.spec.date_column], utc=True)
        described["period"] = [str(dates.min().date()), str(dates.max().date())]
    return described


def _test_json(test: ValidationTestResult) -> dict[str, Any]:
    t = test.threshold
    return {"test": test.test, "population": test.population, "value": test.value,
            "p_value": test.p_value, "verdict": str(test.verdict), "detail": test.detail,
            "threshold": {"statistic": t.statistic, "better": str(t.better), "green": t.green,
                          "amber": t.amber, "tag": str(t.tag), "source": t.source,
                          "material": t.material, "text": t.describe()}}


def _previous_summary(previous: dict[str, Any] | None,
                      tests: list[ValidationTestResult]) -> dict[str, Any] | None:
    if previous is None:
        return None
    before = {(t["test"], t["population"]): t for t in previous["tests"]}
    deltas = []
    for test in tests:
        old = before.get((test.test, test.population))
        if old is not None and old["value"] is not None:
            deltas.append({"test": test.test, "population": test.population,
                           "before": old["value"], "now": test.value,
                           "verdict_before": old["verdict"], "verdict_now": str(test.verdict)})
    return {"run_id": previous["run_id"], "model": previous["model"],
            "created_at": previous["created_at"], "opinion": previous["opinion"],
            "deltas": deltas}


def _command(ref: str, against: str | None, policy: Path | ValidationPolicy | None,
             sample: Path | None) -> str:
    parts = ["bankml", "validate", ref]
    if against:
        parts += ["--against", against]
    if isinstance(policy, Path):
        parts += ["--policy", str(policy)]
    if sample is not None:
        parts += ["--sample", str(sample)]
    return " ".join(parts)


__all__ = ["Validation"]
