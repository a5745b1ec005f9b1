"""Evidence records to JSON and back: the one place their stored layout is written and read.

Two records are kept for years and read by people who were not there: the manifest of a
model version and the result of a validation run. Each is written here in the current
layout, with its `schema_version`, and read back from any layout bankml ever stored:

- version 1: the plain dictionaries written before the layouts had a version. They
  carry no `schema_version`. Manifests of versions registered by hand are `{}` or
  `{"feature_views": [...]}`: they read as no manifest. A version-1 manifest may lack
  `spec_folder` and may hold fields of an earlier layout (`predictions_sha256`), which
  are kept in `Manifest.legacy`.
- version 2: the same field names, complete, with `schema_version: 2`.
- version 3 (results): `scope.test_population` names the test rows, `out_of_time` or a
  random split's `holdout_random`, and their scope, tests and details carry that name;
  versions 1 and 2 read as `out_of_time`.

Values follow `core.canonical.to_plain`; a field that is missing or of the wrong kind is
an `InvalidInputError` naming its path (rule `evidence.schema`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import fields
from enum import Enum
from typing import TypeVar, get_type_hints

from bankml.core.canonical import JsonObject, JsonValue, canonical_json, to_plain
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
from bankml.core.registry import Domain, Model
from bankml.core.validation import (
    OUT_OF_TIME,
    RESULT_SCHEMA_VERSION,
    TYPED_DETAILS,
    AlertFairness,
    AucSummary,
    Better,
    ChampionComparison,
    ChangeSincePrevious,
    FairnessTable,
    GroupAlerts,
    GroupCalibration,
    GroupSelection,
    InitialAucComparison,
    Opinion,
    PolicyIdentity,
    PopulationDetails,
    PopulationScope,
    PreviousRun,
    ProxyScore,
    ReproductionPack,
    Scope,
    SelectionFairness,
    SignificanceRule,
    Tag,
    Threshold,
    ValidationResult,
    ValidationTestResult,
    Verdict,
)

RULE = "evidence.schema"
R = TypeVar("R")
E = TypeVar("E", bound=Enum)

# The fields the current manifest layout names; a version-1 manifest's others are legacy.
_MANIFEST_FIELDS = frozenset({
    "schema_version", "spec", "spec_sha256", "spec_folder", "data_source", "dataset_sha256",
    "dataset_rows", "dataset_snapshot_sha256", "feature_refs", "feature_views", "code",
    "dependencies", "platform", "seeds", "threads", "splits", "protected_sha256",
    "protected_snapshot_sha256", "data_quality"})


# -- manifests ------------------------------------------------------------------------------


def manifest_to_plain(manifest: Manifest) -> JsonObject:
    """The manifest as stored: JSON data in the layout of its `schema_version`."""
    environment = manifest.environment
    source = manifest.data_source
    plain: JsonObject = {
        **{key: to_plain(value) for key, value in manifest.legacy.items()},
        "schema_version": manifest.schema_version,
        "spec": to_plain(manifest.spec), "spec_sha256": manifest.spec_sha256,
        "data_source": {"origin": source.origin, "description": source.description,
                        **({"dataset": source.dataset} if source.dataset is not None else {}),
                        **({"path": source.path} if source.path is not None else {})},
        "dataset_sha256": manifest.dataset_sha256, "dataset_rows": manifest.dataset_rows,
        "dataset_snapshot_sha256": manifest.dataset_snapshot_sha256,
        "feature_refs": dict(manifest.feature_refs),
        "feature_views": list(manifest.feature_views),
        "code": {"bankml": manifest.code.bankml, "git_commit": manifest.code.git_commit},
        "dependencies": dict(environment.dependencies),
        "platform": {"python": environment.python,
                     "implementation": environment.implementation,
                     "system": environment.system, "machine": environment.machine},
        "seeds": {"seed": manifest.seed}, "threads": {"threads": manifest.threads},
        "splits": dict(manifest.splits),
    }
    if manifest.spec_folder is not None:
        plain["spec_folder"] = manifest.spec_folder
    for key in ("protected_sha256", "protected_snapshot_sha256"):  # absent when never kept
        if getattr(manifest, key) is not None:
            plain[key] = getattr(manifest, key)
    if manifest.data_quality is not None:
        plain["data_quality"] = _quality_to_plain(manifest.data_quality)
    return plain


def _quality_to_plain(quality: DataQuality) -> JsonObject:
    return {"label_counts": dict(quality.label_counts),
            "checks": [{"rule": c.rule, "column": c.column, "value": c.value,
                        "limit": c.limit, "breached": c.breached, "on_breach": c.on_breach,
                        "detail": c.detail}
                       for c in quality.checks]}


def _quality(record: _Fields) -> DataQuality:
    parts = record.parts("checks")
    return DataQuality(
        label_counts=record.mapping("label_counts", _Fields.integer),
        checks=tuple(DataCheck(rule=c.text("rule"), column=c.text("column"),
                               value=c.number("value"), limit=c.number("limit"),
                               breached=c.flag("breached"), on_breach=c.text("on_breach"),
                               detail=c.text("detail"))
                     for c in parts))


def manifest_to_json(manifest: Manifest) -> str:
    """The manifest as canonical JSON text."""
    return canonical_json(manifest_to_plain(manifest))


def manifest_from_plain(data: JsonValue) -> Manifest | None:
    """A stored manifest of any layout; None for a version registered by hand."""
    record = _Fields(data, "manifest")
    version = _schema_version(record, MANIFEST_SCHEMA_VERSION)
    if "spec" not in record.data:  # `{}` or `{"feature_views": [...]}`: registered by hand
        return None
    if version >= MANIFEST_SCHEMA_VERSION:
        record.refuse_unknown(_MANIFEST_FIELDS)
    source = record.part("data_source")
    platform = record.part("platform")
    return Manifest(
        schema_version=version, spec=record.part("spec").data,
        spec_sha256=record.text("spec_sha256"),
        spec_folder=record.optional_text("spec_folder"),
        data_source=_checked(record.where + ".data_source", lambda: DataSource(
            origin=source.text("origin"), description=source.text("description"),
            dataset=source.optional_text("dataset"), path=source.optional_text("path"))),
        dataset_sha256=record.text("dataset_sha256"),
        dataset_rows=record.integer("dataset_rows"),
        dataset_snapshot_sha256=record.optional_text("dataset_snapshot_sha256"),
        protected_sha256=record.optional_text("protected_sha256"),
        protected_snapshot_sha256=record.optional_text("protected_snapshot_sha256"),
        feature_refs=record.mapping("feature_refs", _Fields.text),
        feature_views=record.texts("feature_views"),
        code=_code(record.part("code")),
        environment=Environment(
            dependencies=record.mapping("dependencies", _Fields.text),
            python=platform.text("python"), implementation=platform.text("implementation"),
            system=platform.text("system"), machine=platform.text("machine")),
        seed=record.part("seeds").integer("seed"),
        threads=record.part("threads").integer("threads"),
        splits=record.mapping("splits", _Fields.integer),
        data_quality=(_quality(record.part("data_quality"))
                      if record.data.get("data_quality") is not None else None),
        legacy={key: value for key, value in record.data.items()
                if key not in _MANIFEST_FIELDS})


def manifest_from_json(text: str) -> Manifest | None:
    """A stored manifest's text, of any layout; None for a version registered by hand."""
    return manifest_from_plain(_parsed(text, "manifest"))


def version_manifest_json(manifest: Manifest | None, *, feature_views: Sequence[str]) -> str:
    """The text a version row keeps: its manifest, or, for a version registered by hand,
    only the feature views it names, as such rows have always held."""
    if manifest is None:
        return canonical_json({"feature_views": list(feature_views)})
    if tuple(feature_views) != manifest.feature_views:  # the row keeps only the manifest's
        raise _error("manifest.feature_views", f"{list(manifest.feature_views)} differ from "
                     f"the version's {list(feature_views)}")
    return manifest_to_json(manifest)


def version_manifest_from_json(text: str) -> tuple[Manifest | None, tuple[str, ...]]:
    """A version row's manifest (None when registered by hand) and its feature views."""
    data = _parsed(text, "manifest")
    manifest = manifest_from_plain(data)
    if manifest is not None:
        return manifest, manifest.feature_views
    return None, _Fields(data, "manifest").optional_texts("feature_views") or ()


def _code(record: _Fields) -> CodeVersion:
    return CodeVersion(bankml=record.text("bankml"),
                       git_commit=record.optional_text("git_commit"))


# -- validation results ---------------------------------------------------------------------


def result_to_plain(result: ValidationResult) -> JsonObject:
    """The result of a run as stored: JSON data in the current layout."""
    policy, scope, pack = result.policy, result.scope, result.reproduce
    card = result.model_card.describe()
    return {
        "schema_version": result.schema_version, "run_id": result.run_id,
        "model": result.model, "domain": str(result.domain), "model_card": to_plain(card),
        "created_at": result.created_at, "created_by": result.created_by,
        "policy": {"id": policy.policy_id, "version": policy.version, "sha256": policy.sha256,
                   "effective": policy.effective,
                   "opinion_rule": {"tag": str(policy.opinion_tag),
                                    "source": policy.opinion_source}},
        "opinion": _opinion_to_plain(result.opinion),
        "fairness_passed": result.fairness_passed, "against": result.against,
        "scope": {
            **{name: _population_scope_to_plain(part) for name, part in scope.populations()},
            "dataset_sha256": scope.dataset_sha256, "snapshot_sha256": scope.snapshot_sha256,
            "test_from": scope.test_from,
            "protected_attributes": list(scope.protected_attributes),
            "decision_cutoffs": to_plain(scope.decision_cutoffs),
            # layouts 1 and 2 had no such field: they are written back as they were stored
            **({"test_population": scope.test_population}
               if result.schema_version >= 3 else {})},
        "tests": [_test_to_plain(test) for test in result.tests],
        "details": {name: _details_to_plain(part) for name, part in result.details.items()},
        "previous": None if result.previous is None else {
            "run_id": result.previous.run_id, "model": result.previous.model,
            "created_at": result.previous.created_at,
            "opinion": _opinion_to_plain(result.previous.opinion),
            "deltas": [to_plain(delta) for delta in result.previous.deltas]},
        "reproduce": {
            "command": pack.command, "artifact_sha256": pack.artifact_sha256,
            "dataset_sha256": pack.dataset_sha256, "snapshot_sha256": pack.snapshot_sha256,
            "policy_sha256": pack.policy_sha256, "spec_sha256": pack.spec_sha256,
            "code": None if pack.code is None else to_plain(pack.code), "seed": pack.seed,
            "against_artifact_sha256": pack.against_artifact_sha256},
    }


def result_to_json(result: ValidationResult) -> str:
    """The result of a run as canonical JSON text (stored as an artifact)."""
    return canonical_json(result_to_plain(result))


def result_from_plain(data: JsonValue) -> ValidationResult:
    """A stored result of any layout."""
    record = _Fields(data, "result")
    version = _schema_version(record, RESULT_SCHEMA_VERSION)
    model = record.text("model")
    card = record.part("model_card")
    policy, opinion_rule = record.part("policy"), record.part("policy").part("opinion_rule")
    previous = record.optional_part("previous")
    return ValidationResult(
        schema_version=version, run_id=record.text("run_id"), model=model,
        domain=record.enum("domain", Domain),
        model_card=_checked(card.where, lambda: Model(
            name=model.partition("@")[0], domain=card.enum("domain", Domain),
            risk_tier=card.integer("risk_tier"), owner=card.text("owner"),
            developer=card.text("developer"), intended_use=card.text("intended_use"),
            limitations=card.text("limitations"),
            protected_attributes=card.texts("protected_attributes"))),
        created_at=record.text("created_at"), created_by=record.text("created_by"),
        policy=PolicyIdentity(
            policy_id=policy.text("id"), version=policy.text("version"),
            sha256=policy.text("sha256"), effective=policy.text("effective"),
            opinion_tag=opinion_rule.enum("tag", Tag),
            opinion_source=opinion_rule.text("source")),
        opinion=_opinion(record.part("opinion")),
        fairness_passed=record.flag("fairness_passed"),
        against=record.optional_text("against"),
        scope=_scope(record.part("scope")),
        tests=tuple(_test(part) for part in record.parts("tests")),
        details={name: _details(part) for name, part in record.part("details").items()},
        previous=None if previous is None else PreviousRun(
            run_id=previous.text("run_id"), model=previous.text("model"),
            created_at=previous.text("created_at"), opinion=_opinion(previous.part("opinion")),
            deltas=tuple(_flat(ChangeSincePrevious, part)
                         for part in previous.parts("deltas"))),
        reproduce=_pack(record.part("reproduce")))


def result_from_json(text: str | bytes) -> ValidationResult:
    """A stored result's text, of any layout."""
    return result_from_plain(_parsed(text, "result"))


def _opinion_to_plain(opinion: Opinion) -> JsonObject:
    return {"level": int(opinion), "label": opinion.label}


def _opinion(record: _Fields) -> Opinion:
    level = record.integer("level")
    try:
        return Opinion(level)
    except ValueError:
        raise _error(record.where + ".level", f"{level} is not an opinion level (1 to 4)"
                     ) from None


def _population_scope_to_plain(part: PopulationScope) -> JsonObject:
    plain: JsonObject = {"rows": part.rows, "events": part.events,
                         "event_rate": to_plain(part.event_rate)}
    if part.period is not None:
        plain["period"] = list(part.period)
    if part.path is not None:
        plain["path"] = part.path
    if part.sha256 is not None:
        plain["sha256"] = part.sha256
    return plain


def _population_scope(record: _Fields) -> PopulationScope:
    period = record.optional_texts("period")
    if period is not None and len(period) != 2:
        raise _error(record.where + ".period", f"holds {len(period)} dates, not first and last")
    return PopulationScope(
        rows=record.integer("rows"), events=record.integer("events"),
        event_rate=record.number("event_rate"),
        period=None if period is None else (period[0], period[1]),
        path=record.optional_text("path"), sha256=record.optional_text("sha256"))


def _scope(record: _Fields) -> Scope:
    sample = record.optional_part("sample")
    tested = record.optional_text("test_population") or OUT_OF_TIME  # layouts 1, 2
    return Scope(
        train=_population_scope(record.part("train")),
        out_of_time=_population_scope(record.part(tested)), test_population=tested,
        sample=None if sample is None else _population_scope(sample),
        dataset_sha256=record.text("dataset_sha256"),
        snapshot_sha256=record.text("snapshot_sha256"), test_from=record.text("test_from"),
        protected_attributes=record.texts("protected_attributes"),
        decision_cutoffs=record.mapping("decision_cutoffs", _Fields.number))


def _test_to_plain(test: ValidationTestResult) -> JsonObject:
    threshold, rule = test.threshold, test.threshold.significance
    # a threshold without a significance rule is written as every earlier layout wrote it
    significance: JsonObject = {} if rule is None else {"significance": {
        "level": rule.level, "tag": str(rule.tag), "source": rule.source}}
    return {"test": test.test, "population": test.population, "value": to_plain(test.value),
            "p_value": to_plain(test.p_value), "verdict": str(test.verdict),
            "detail": test.detail,
            "threshold": {"statistic": threshold.statistic, "better": str(threshold.better),
                          "green": threshold.green, "amber": threshold.amber,
                          "tag": str(threshold.tag), "source": threshold.source,
                          "material": threshold.material, **significance,
                          "text": threshold.describe()}}


def _test(record: _Fields) -> ValidationTestResult:
    name = record.text("test")
    threshold = record.part("threshold")
    value = record.optional_number("value")
    rule = threshold.optional_part("significance")
    return ValidationTestResult(
        test=name, population=record.text("population"),
        value=math.nan if value is None else value,  # not computed: NaN, as the verdicts read
        p_value=record.optional_number("p_value"),
        threshold=Threshold(
            test=name.split("[", 1)[0], statistic=threshold.text("statistic"),
            better=threshold.enum("better", Better), green=threshold.number("green"),
            amber=threshold.number("amber"), tag=threshold.enum("tag", Tag),
            source=threshold.text("source"), material=threshold.flag("material"),
            significance=None if rule is None else SignificanceRule(
                level=rule.number("level"), tag=rule.enum("tag", Tag),
                source=rule.text("source"))),
        verdict=record.enum("verdict", Verdict), detail=record.text("detail"))


def _details_to_plain(details: PopulationDetails) -> JsonObject:
    plain: JsonObject = {key: to_plain(value) for key, value in details.charts.items()}
    for key in ("auc", "auc_vs_initial", "comparison"):
        part = getattr(details, key)
        if part is not None:
            plain[key] = to_plain(part)
    if details.fairness:
        plain["fairness"] = [_fairness_to_plain(table) for table in details.fairness]
    return plain


def _details(record: _Fields) -> PopulationDetails:
    auc, initial = record.optional_part("auc"), record.optional_part("auc_vs_initial")
    comparison = record.optional_part("comparison")
    return PopulationDetails(
        auc=None if auc is None else _flat(AucSummary, auc),
        auc_vs_initial=None if initial is None else _flat(InitialAucComparison, initial),
        comparison=None if comparison is None else _flat(ChampionComparison, comparison),
        fairness=tuple(_fairness(part) for part in record.optional_parts("fairness")),
        charts={key: value for key, value in record.data.items() if key not in TYPED_DETAILS})


def _fairness_to_plain(table: FairnessTable) -> JsonObject:
    if isinstance(table, AlertFairness):
        return {"attribute": table.attribute,
                "groups": [to_plain(group) for group in table.groups]}
    plain: JsonObject = {
        "attribute": table.attribute, "reference": table.reference,
        "reference_rule": table.reference_rule, "min_max_ratio": to_plain(table.min_max_ratio),
        "groups": [to_plain(group) for group in table.groups]}
    if table.calibration:
        plain["calibration"] = [to_plain(group) for group in table.calibration]
    if table.proxies:
        plain["proxies"] = [to_plain(proxy) for proxy in table.proxies]
    return plain


def _fairness(record: _Fields) -> FairnessTable:
    if "reference" not in record.data:  # alert parity: fraud, AML
        return AlertFairness(attribute=record.text("attribute"), groups=tuple(
            _flat(GroupAlerts, group) for group in record.parts("groups")))
    return SelectionFairness(
        attribute=record.text("attribute"), reference=record.text("reference"),
        reference_rule=record.text("reference_rule"),
        min_max_ratio=record.optional_number("min_max_ratio"),
        groups=tuple(_flat(GroupSelection, group) for group in record.parts("groups")),
        calibration=tuple(_flat(GroupCalibration, group)
                          for group in record.optional_parts("calibration")),
        proxies=tuple(_flat(ProxyScore, proxy)
                      for proxy in record.optional_parts("proxies")))


def _pack(record: _Fields) -> ReproductionPack:
    code = record.optional_part("code")
    return ReproductionPack(
        command=record.text("command"), artifact_sha256=record.text("artifact_sha256"),
        dataset_sha256=record.text("dataset_sha256"),
        snapshot_sha256=record.text("snapshot_sha256"),
        policy_sha256=record.text("policy_sha256"),
        spec_sha256=record.optional_text("spec_sha256"),
        code=None if code is None else _code(code), seed=record.integer("seed"),
        against_artifact_sha256=record.optional_text("against_artifact_sha256"))


# -- reading, field by field ----------------------------------------------------------------


class _Fields:
    """One JSON object of a stored record, read field by field; errors name the path.

    Required fields raise when absent; `optional_*` readers give None for an absent field
    as for a null one.
    """

    def __init__(self, data: JsonValue, where: str) -> None:
        if not isinstance(data, dict):
            raise _error(where, f"is {_kind(data)}, not an object")
        self.data, self.where = data, where

    def items(self) -> list[tuple[str, _Fields]]:
        return [(key, _Fields(value, f"{self.where}.{key}")) for key, value in self.data.items()]

    def refuse_unknown(self, known: frozenset[str]) -> None:
        unknown = sorted(set(self.data) - known)
        if unknown:
            raise _error(f"{self.where}.{unknown[0]}", "is not a field of this layout")

    def value(self, name: str) -> JsonValue:
        if name not in self.data:
            raise _error(f"{self.where}.{name}", "missing")
        return self.data[name]

    def text(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            raise self._wrong(name, value, "text")
        return value

    def integer(self, name: str) -> int:
        value = self.value(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(name, value, "a whole number")
        return value

    def number(self, name: str) -> float:
        value = self.value(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._wrong(name, value, "a number")
        return float(value)

    def flag(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            raise self._wrong(name, value, "true or false")
        return value

    def enum(self, name: str, kind: type[E]) -> E:
        text = self.text(name)
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            raise _error(f"{self.where}.{name}", f"{text!r} is not one of {allowed}") from None

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.value(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(name, value, "a list of text")
        return tuple(str(item) for item in value)

    def part(self, name: str) -> _Fields:
        return _Fields(self.value(name), f"{self.where}.{name}")

    def parts(self, name: str) -> list[_Fields]:
        value = self.value(name)
        if not isinstance(value, list):
            raise self._wrong(name, value, "a list")
        return [_Fields(item, f"{self.where}.{name}[{index}]")
                for index, item in enumerate(value)]

    def mapping(self, name: str, read: Callable[[_Fields, str], R]) -> dict[str, R]:
        part = self.part(name)
        return {key: read(part, key) for key in part.data}

    def optional_text(self, name: str) -> str | None:
        return None if self._absent(name) else self.text(name)

    def optional_integer(self, name: str) -> int | None:
        return None if self._absent(name) else self.integer(name)

    def optional_number(self, name: str) -> float | None:
        return None if self._absent(name) else self.number(name)

    def optional_texts(self, name: str) -> tuple[str, ...] | None:
        return None if self._absent(name) else self.texts(name)

    def optional_part(self, name: str) -> _Fields | None:
        return None if self._absent(name) else self.part(name)

    def optional_parts(self, name: str) -> list[_Fields]:
        return [] if self._absent(name) else self.parts(name)

    def _absent(self, name: str) -> bool:
        return self.data.get(name) is None

    def _wrong(self, name: str, value: JsonValue, wanted: str) -> InvalidInputError:
        return _error(f"{self.where}.{name}", f"is {_kind(value)}, not {wanted}")


def _field_readers(kind: type) -> tuple[tuple[str, Callable[[_Fields, str], object]], ...]:
    """How to read each field of a record whose fields are all single values."""
    known = _READERS_OF.get(kind)
    if known is not None:
        return known
    hints = get_type_hints(kind)
    readers: list[tuple[str, Callable[[_Fields, str], object]]] = []
    for item in fields(kind):
        hint = hints[item.name]
        reader = _SCALAR_READERS.get(hint)
        if reader is None and isinstance(hint, type) and issubclass(hint, Enum):
            reader = _enum_reader(hint)
        if reader is None:
            raise TypeError(f"{kind.__name__}.{item.name}: {hint} is not a single value")
        readers.append((item.name, reader))
    _READERS_OF[kind] = tuple(readers)
    return _READERS_OF[kind]


def _enum_reader(kind: type[Enum]) -> Callable[[_Fields, str], object]:
    return lambda record, name: record.enum(name, kind)


_READERS_OF: dict[type, tuple[tuple[str, Callable[[_Fields, str], object]], ...]] = {}
_SCALAR_READERS: dict[object, Callable[[_Fields, str], object]] = {
    str: _Fields.text, int: _Fields.integer, float: _Fields.number, bool: _Fields.flag,
    str | None: _Fields.optional_text, int | None: _Fields.optional_integer,
    float | None: _Fields.optional_number,
}


def _flat(kind: type[R], record: _Fields) -> R:
    """A record of single values, read by its fields' types; a missing optional is None."""
    return kind(**{name: read(record, name) for name, read in _field_readers(kind)})


def _checked(where: str, build: Callable[[], R]) -> R:
    """A record whose own rules may refuse the stored values: the error names `where`."""
    try:
        return build()
    except InvalidInputError as exc:
        raise _error(where, str(exc)) from None


def _schema_version(record: _Fields, current: int) -> int:
    version = record.integer("schema_version") if "schema_version" in record.data else 1
    if not 1 <= version <= current:
        raise _error(f"{record.where}.schema_version", f"{version} is not a layout this "
                     f"bankml reads (1 to {current}); a newer bankml wrote it: upgrade")
    return version


def _parsed(text: str | bytes, where: str) -> JsonValue:
    try:
        parsed: JsonValue = json.loads(text)
    except ValueError as exc:
        raise _error(where, f"is not JSON text ({exc})") from None
    return parsed


def _kind(value: JsonValue) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"the text {value!r}" if isinstance(value, str) else f"the number {value!r}"


def _error(where: str, message: str) -> InvalidInputError:
    return InvalidInputError(where, message, rule=RULE)


__all__ = [
    "manifest_from_json",
    "manifest_from_plain",
    "manifest_to_json",
    "manifest_to_plain",
    "result_from_json",
    "result_from_plain",
    "result_to_json",
    "result_to_plain",
    "version_manifest_from_json",
    "version_manifest_json",
]
