"""The pipeline spec: a YAML file, validated with pydantic; each error names its line and field.

See docs/pipelines.md for every field. A spec is identified by the sha256 of its canonical
JSON form, so comments and formatting do not change its digest.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.decisions import DecisionPolicy, PolicyKind, make_policy
from bankml.core.domains import profile
from bankml.core.errors import InvalidInputError, SpecError
from bankml.core.manifest import Manifest
from bankml.core.registry import Domain, Model, check_model_name
from bankml.documents import compose_yaml
from bankml.training.allowlist import (
    SCIKIT_LEARN_CLASSIFIERS,
    EstimatorAllowlist,
    check_estimator,
)

EXAMPLE_DATASETS = ("german_credit", "card_fraud", "aml", "bank_marketing", "card_fraud_ulb")
METRICS = ("auc", "gini", "ks", "brier", "log_loss", "average_precision", "default_rate",
           "top_decile_lift")
MetricName = Literal["auc", "gini", "ks", "brier", "log_loss", "average_precision",
                     "default_rate", "top_decile_lift"]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProtectedAttribute(_Block):
    """A protected attribute with how fairness tests read it: the model's own declaration,
    which takes precedence over the validation policy's defaults."""

    name: str = Field(min_length=1)
    bands: list[float] | None = Field(default=None, min_length=1)  # numeric: band edges
    labels: dict[str, str] | None = None  # stored value (as text) -> group name: {1: male}
    reference: str | None = Field(default=None, min_length=1)  # the reference group

    @field_validator("labels", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads `{1: male}` with a number as the key; the values are matched as text
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _consistent(self) -> ProtectedAttribute:
        if self.bands is not None and any(b <= a for a, b in itertools.pairwise(self.bands)):
            raise ValueError(f"bands {self.bands} must increase strictly")
        if self.bands is not None and self.labels is not None:
            raise ValueError("give `bands` (a number cut into ranges) or `labels` (codes "
                             "named), not both")
        if self.labels is not None and self.reference is not None \
                and self.reference not in self.labels.values():
            raise ValueError(f"reference {self.reference!r} is none of the labels "
                             f"{sorted(set(self.labels.values()))}")
        return self


class ModelBlock(_Block):
    name: str
    domain: Domain
    risk_tier: int = Field(ge=1, le=3)
    owner: str = Field(min_length=1)
    developer: str = Field(min_length=1)
    intended_use: str = ""
    limitations: str = ""
    protected_attributes: list[str | ProtectedAttribute] = []
    # the declared direction of each input's effect on the score: +1 raises it, -1 lowers it
    monotone: dict[str, Literal[1, -1]] | None = None

    @property
    def protected(self) -> list[ProtectedAttribute]:
        """Every protected attribute as a declaration (a bare name declares nothing more)."""
        return [ProtectedAttribute(name=item) if isinstance(item, str) else item
                for item in self.protected_attributes]

    @property
    def protected_names(self) -> list[str]:
        return [item.name for item in self.protected]

    def to_model(self) -> Model:
        return Model(name=self.name, domain=self.domain, risk_tier=self.risk_tier,
                     owner=self.owner, developer=self.developer,
                     intended_use=self.intended_use.strip(),
                     limitations=self.limitations.strip(),
                     protected_attributes=tuple(self.protected_names))


class CsvOptions(_Block):
    """How a CSV source is written: regional spreadsheets often use `;` and a decimal comma."""

    separator: str = Field(default=",", min_length=1, max_length=1)
    decimal: str = Field(default=".", min_length=1, max_length=1)
    # a column of row numbers (a name, or its position from 0) that is not data: dropped
    index_column: str | int | None = None

    @model_validator(mode="after")
    def _distinct(self) -> CsvOptions:
        if self.separator == self.decimal:
            raise ValueError(f"separator and decimal are both {self.separator!r}")
        return self


class SourceBlock(_Block):
    dataset: Literal["german_credit", "card_fraud", "aml", "bank_marketing",
                     "card_fraud_ulb"] | None = None
    path: str | None = None
    csv: CsvOptions | None = None  # CSV files only; None: comma-separated, decimal point
    entity: list[str] = Field(min_length=1)
    # when the decision was taken; data without dates leaves it out and splits at random
    event_timestamp: str | None = None
    label: str
    # fraud/AML: the amount at stake per row, read by the value detection rate
    value: str | None = None
    # a sample's weights (a case-control sample: rows per population row it stands for);
    # the training metrics and outcome shares are weighted by it; never an input
    weight: str | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> SourceBlock:
        if (self.dataset is None) == (self.path is None):
            raise ValueError("give exactly one of `dataset` (a built-in example: "
                             f"{', '.join(EXAMPLE_DATASETS)}) or `path` (a Parquet or CSV file)")
        if self.csv is not None and not str(self.path or "").lower().endswith(".csv"):
            raise ValueError("`csv` options go with a `path` to a .csv file")
        return self


class InputColumn(_Block):
    name: str
    # A column holding when the value was observed; it must not be after the event time.
    as_of: str | None = None


class OutOfTime(_Block):
    date_column: str | None = None  # default: the source's event_timestamp
    test_from: date


class Holdout(_Block):
    share: float = Field(gt=0, lt=1)


class RandomSplit(_Block):
    """For data without dates: a seeded test set, stratified by label or grouped by a
    column. Weaker evidence than out of time: test and training rows share one period."""

    test_share: float = Field(gt=0, lt=1)
    group_by: str | None = None  # every row of a group (a customer) on one side


class Split(_Block):
    out_of_time: OutOfTime | None = None
    random: RandomSplit | None = None
    holdout: Holdout

    @model_validator(mode="after")
    def _one_kind(self) -> Split:
        if (self.out_of_time is None) == (self.random is None):
            raise ValueError("give exactly one of `out_of_time` (test rows from a date on) "
                             "or `random` (a seeded share of the rows, for data without "
                             "dates; weaker evidence)")
        return self


class NumericPreprocessing(_Block):
    # none: gaps stay gaps (LightGBM handles them natively; other estimators may not)
    impute: Literal["median", "mean", "zero", "none"] = "median"
    scale: bool = True


class CategoricalPreprocessing(_Block):
    impute: Literal["most_frequent", "missing"] = "missing"
    encode: Literal["one_hot", "ordinal"] = "one_hot"


class WoeBinning(_Block):
    bins: int = Field(5, ge=2, le=20)
    # quantile: bins at training quantiles; monotone: then merged until the WoE rises or
    # falls steadily with the value (a scorecard's points then do too)
    method: Literal["quantile", "monotone"] = "quantile"
    edges: dict[str, list[float]] | None = None  # per numeric input: cut points set by hand

    @model_validator(mode="after")
    def _edges_given(self) -> WoeBinning:
        for name, cuts in (self.edges or {}).items():
            if not cuts:
                raise ValueError(f"edges.{name}: give at least one cut point")
        return self


class Preprocessing(_Block):
    numeric: NumericPreprocessing = NumericPreprocessing()
    categorical: CategoricalPreprocessing = CategoricalPreprocessing()
    woe_binning: WoeBinning | None = None


Breach = Literal["refuse", "warn"]


class MissingCheck(_Block):
    """Per input: the share of rows without a value."""

    max_share: float = Field(default=0.5, ge=0, le=1)
    on_breach: Breach = "warn"  # a gappy input may be legitimate; it is recorded either way


class CategoriesCheck(_Block):
    """Per text input: the distinct values its encoding may take."""

    one_hot: int = Field(default=100, ge=2)  # one column per category
    ordinal: int = Field(default=1000, ge=2)
    woe: int = Field(default=50, ge=2)  # each category a bin of its own: tiny bins overfit
    on_breach: Breach = "refuse"


class IdentifierCheck(_Block):
    """Per text input: a distinct value on more than this share of rows is an identifier."""

    max_distinct_share: float = Field(default=0.5, gt=0, le=1)
    on_breach: Breach = "refuse"


class DataChecks(_Block):
    missing: MissingCheck = MissingCheck()
    categories: CategoriesCheck = CategoriesCheck()
    identifier: IdentifierCheck = IdentifierCheck()


class Estimator(_Block):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["logistic_regression", "lightgbm", "sklearn"]
    class_path: str | None = Field(None, alias="class")
    params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _class_for_sklearn(self) -> Estimator:
        if (self.kind == "sklearn") != (self.class_path is not None):
            raise ValueError("`class` (an import path such as "
                             "sklearn.ensemble.RandomForestClassifier) goes with kind "
                             "`sklearn`, and only with it")
        return self


class Calibration(_Block):
    method: Literal["sigmoid", "isotonic"]
    share: float = Field(0.25, gt=0, lt=1)


class Evaluation(_Block):
    metrics: list[MetricName] | None = None


class PolicyBlock(_Block):
    """The cut-offs that turn a score into a decision, of a kind that fits the domain."""

    kind: PolicyKind
    approve_below: float | None = Field(None, ge=0, le=1)
    decline_from: float | None = Field(None, ge=0, le=1)
    challenge_from: float | None = Field(None, ge=0, le=1)
    block_from: float | None = Field(None, ge=0, le=1)
    alert_from: float | None = Field(None, ge=0, le=1)
    offer_from: float | None = Field(None, ge=0, le=1)
    # propensity: offer to the top share of the development sample's scores instead
    top_share: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _cutoffs_of_kind(self) -> PolicyBlock:
        given = {name for name in CUTOFF_FIELDS if getattr(self, name) is not None}
        accepted = [set(needed) for needed in CUTOFFS_OF_KIND[self.kind]]
        if given not in accepted:
            choices = " or ".join(", ".join(sorted(needed)) for needed in accepted)
            raise ValueError(f"kind {self.kind} takes exactly {choices}")
        if self.top_share is None:
            try:
                self.to_policy("check")  # the order of the cut-offs
            except InvalidInputError as exc:
                raise ValueError(str(exc).removeprefix("decision_policy: ")) from None
        return self

    def cutoffs(self) -> dict[str, float]:
        return {name: value for name in CUTOFF_FIELDS
                if (value := getattr(self, name)) is not None}

    def to_policy(self, version: str, *, scores: Sequence[float] | None = None
                  ) -> DecisionPolicy:
        """The policy as core knows it; a top share becomes the score at that quantile of
        `scores` (the development sample's)."""
        cutoffs = self.cutoffs()
        if self.top_share is not None:
            if scores is None or not len(scores):
                raise ValueError("a top_share policy needs the development scores")
            ranked = sorted(scores, reverse=True)
            cutoffs = {"offer_from": float(ranked[max(0, round(self.top_share * len(ranked))
                                                       - 1)])}
        return make_policy(self.kind, version=version, cutoffs=cutoffs)


LATER_CUTOFFS = ("challenge_from", "offer_from", "top_share")  # added with policy kinds
LATER_FIELDS = ("data_checks",)  # top-level fields added after specs were first recorded
CUTOFF_FIELDS = ("approve_below", "decline_from", "challenge_from", "block_from", "alert_from",
                 "offer_from", "top_share")
CUTOFFS_OF_KIND: dict[PolicyKind, tuple[tuple[str, ...], ...]] = {
    PolicyKind.APPROVE_REFER_DECLINE: (("approve_below", "decline_from"),),
    PolicyKind.BLOCK_ALLOW: (("block_from",),),
    PolicyKind.ALLOW_CHALLENGE_BLOCK: (("challenge_from", "block_from"),),
    PolicyKind.ALERT: (("alert_from",),),
    PolicyKind.OFFER: (("offer_from",), ("top_share",)),
}


class PipelineSpec(_Block):
    model: ModelBlock
    source: SourceBlock
    inputs: list[str | InputColumn] = []
    features: list[str] = []
    split: Split
    preprocessing: Preprocessing = Preprocessing()
    estimator: Estimator
    calibration: Calibration | None = None
    evaluation: Evaluation = Evaluation()
    decision_policy: PolicyBlock
    data_checks: DataChecks | None = None  # None: the defaults (kept apart for the digest)
    seed: int = 7
    threads: int = Field(1, ge=1, le=256)
    tags: dict[str, str] = {}

    @property
    def input_columns(self) -> list[InputColumn]:
        return [InputColumn(name=item) if isinstance(item, str) else item
                for item in self.inputs]

    @property
    def checks(self) -> DataChecks:
        """The data checks' limits: the spec's, else the defaults."""
        return self.data_checks or DataChecks()

    @property
    def date_column(self) -> str | None:
        """The column the out-of-time split reads; None for a random split without dates."""
        if self.split.out_of_time is not None and self.split.out_of_time.date_column:
            return self.split.out_of_time.date_column
        return self.source.event_timestamp

    @property
    def metrics(self) -> tuple[str, ...]:
        if self.evaluation.metrics is not None:
            return tuple(self.evaluation.metrics)
        return profile(self.model.domain).metrics

    def digest(self) -> str:
        return sha256_hex(canonical_json(self.described()))

    def described(self) -> dict[str, Any]:
        described = self.model_dump(mode="json", by_alias=True)
        for name in ("value", "csv", "weight"):  # specs without these keep their digest
            if described["source"][name] is None:
                del described["source"][name]
        for name in ("out_of_time", "random"):
            if described["split"][name] is None:
                del described["split"][name]
        for name in LATER_FIELDS:  # specs that do not use newer fields keep their digest
            if described.get(name) is None:
                described.pop(name, None)
        woe = described["preprocessing"].get("woe_binning")
        if woe is not None:  # scorecards that use neither keep their digest
            if woe.get("method") == "quantile":
                woe.pop("method")
            if woe.get("edges") is None:
                woe.pop("edges")
        if described["model"].get("monotone") is None:
            described["model"].pop("monotone", None)
        described["model"]["protected_attributes"] = [
            {k: v for k, v in item.items() if v is not None} if isinstance(item, dict)
            else item for item in described["model"]["protected_attributes"]]
        for name in LATER_CUTOFFS:  # specs without the newer policy kinds keep their digest
            if described["decision_policy"].get(name) is None:
                described["decision_policy"].pop(name, None)
        return described


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """A validated spec, where it came from, and the line of every field for later errors."""

    spec: PipelineSpec
    source: str  # the file name, or "manifest of NAME@V"
    folder: Path  # relative data paths are read from here
    lines: dict[tuple[str | int, ...], int]

    def error(self, location: tuple[str | int, ...], message: str, *,
              rule: str = "pipeline.spec") -> SpecError:
        """A SpecError pointing at `location`'s line (or its nearest parent's)."""
        return SpecError(self.source, [f"{self.where(location)}: {message}"], rule=rule)

    def where(self, location: tuple[str | int, ...]) -> str:
        """`line 12, estimator.params`: where in the spec `location` is."""
        return _where(self.lines, location)


def load_spec(path: Path, *,
              allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS) -> LoadedSpec:
    """Read and validate a spec file; a SpecError lists every problem with line and field.

    `allowlist` names the estimator classes the spec may use (see docs/security.md).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(path), [f"cannot be read: {exc.strerror}"]) from exc
    return parse_spec(text, source=str(path), folder=path.parent, allowlist=allowlist)


def parse_spec(text: str, *, source: str, folder: Path,
               allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS) -> LoadedSpec:
    try:
        data, node = compose_yaml(text, source=source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "the file"
        raise SpecError(source, [f"{where}: not valid YAML ({exc})"]) from exc
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    if not isinstance(data, dict):
        raise SpecError(source, ["the spec must be a YAML mapping with model:, source:, ..."])
    loaded = LoadedSpec(_validated(data, source, lines), source, folder, lines)
    _check_consistency(loaded, allowlist)
    return loaded


def spec_from_manifest(manifest: Manifest, *, source: str,
                       allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS
                       ) -> LoadedSpec:
    """The spec a version was built from, as its manifest recorded it; relative data paths
    are read from the folder the spec file was in (the working directory for manifests
    recorded before the folder was kept)."""
    return spec_from_recorded(dict(manifest.spec), source=source,
                              folder=Path(manifest.spec_folder or "."), allowlist=allowlist)


def spec_from_recorded(described: dict[str, Any], *, source: str, folder: Path,
                       allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS
                       ) -> LoadedSpec:
    """A recorded spec, validated; its estimator is checked as a spec file's is: a manifest
    is only as trustworthy as the spec it was recorded from, or whoever could edit it since.
    """
    loaded = LoadedSpec(_validated(described, source, {}), source, folder, {})
    check_estimator(loaded, allowlist)
    return loaded


def _validated(data: dict[str, Any], source: str,
               lines: dict[tuple[str | int, ...], int]) -> PipelineSpec:
    try:
        return PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(source, [f"{_where(lines, tuple(e['loc']))}: {_message(e)}"
                                 for e in exc.errors()]) from None


def _check_consistency(loaded: LoadedSpec, allowlist: EstimatorAllowlist) -> None:
    """Rules that span fields; the data-dependent ones are checked when the data is read."""
    spec = loaded.spec
    try:
        check_model_name(spec.model.name)
    except Exception as exc:
        raise loaded.error(("model", "name"), str(exc)) from None
    names = [column.name for column in spec.input_columns]
    if not names and not spec.features:
        raise loaded.error(("inputs",),
                           "give the model's inputs as `inputs:` (columns of the source, "
                           "sent with each request in production), as `features:` (feature "
                           "store refs, read online), or both")
    for index, name in enumerate(names):
        if name == spec.source.label:
            raise loaded.error(("inputs", index), f"{name!r} is the label; a model cannot "
                               "take its own target as an input", rule="pipeline.label_leak")
        if name in spec.model.protected_names:
            raise loaded.error(("inputs", index), f"{name!r} is a protected attribute, kept "
                               "for fairness testing only; remove it from the inputs",
                               rule="registry.protected_not_input")
        if name in spec.source.entity:
            raise loaded.error(("inputs", index), f"{name!r} is an entity key, not a "
                               "feature")
    if len(set(names)) != len(names):
        raise loaded.error(("inputs",), "an input is listed twice")
    _check_feature_refs(loaded, names)
    _check_declarations(loaded, names)
    _check_dates(loaded)
    woe = spec.preprocessing.woe_binning
    for name in (woe.edges or {}) if woe is not None else {}:
        if name not in names and name not in [r.split(":", 1)[1] for r in spec.features]:
            raise loaded.error(("preprocessing", "woe_binning", "edges", name), f"{name!r} "
                               "is not an input of the model", rule="pipeline.column_known")
    fitting = profile(spec.model.domain).policy_kinds
    if spec.decision_policy.kind not in fitting:
        raise loaded.error(("decision_policy", "kind"), f"a {spec.model.domain} model decides "
                           f"with kind {' or '.join(fitting)}, not {spec.decision_policy.kind}",
                           rule="policy.kind_fits_domain")
    check_estimator(loaded, allowlist)  # before any data is read: `bankml train` fails fast


def _check_dates(loaded: LoadedSpec) -> None:
    """What needs an event time has one: an out-of-time split, feature refs (joined point
    in time) and `as_of` inputs."""
    spec = loaded.spec
    if spec.source.event_timestamp is not None:
        return
    if spec.split.out_of_time is not None and spec.split.out_of_time.date_column is None:
        raise loaded.error(("source",), "an out-of-time split needs `event_timestamp` (or "
                           "split.out_of_time.date_column); for data without dates use "
                           "split.random", rule="pipeline.spec")
    if spec.features:
        raise loaded.error(("features",), "feature refs are joined at the event time: "
                           "give source.event_timestamp", rule="pipeline.spec")
    for index, column in enumerate(spec.input_columns):
        if column.as_of is not None:
            raise loaded.error(("inputs", index, "as_of"), "`as_of` is compared with the "
                               "event time: give source.event_timestamp", rule="pipeline.spec")


def _check_declarations(loaded: LoadedSpec, columns: list[str]) -> None:
    """Monotone directions name inputs; each protected attribute is declared once."""
    spec = loaded.spec
    inputs = [*columns, *(ref.split(":", 1)[1] for ref in spec.features)]
    for name in spec.model.monotone or {}:
        if name not in inputs:
            raise loaded.error(("model", "monotone", name), f"{name!r} is not an input of "
                               f"the model; its inputs are {', '.join(inputs)}",
                               rule="pipeline.column_known")
    names = spec.model.protected_names
    for index, name in enumerate(names):
        if name in names[:index]:
            raise loaded.error(("model", "protected_attributes", index), f"{name!r} is "
                               "declared twice", rule="pipeline.spec")


def _check_feature_refs(loaded: LoadedSpec, columns: list[str]) -> None:
    spec = loaded.spec
    for index, ref in enumerate(spec.features):
        if ":" not in ref or ref.split(":", 1)[1].strip() == "":
            raise loaded.error(("features", index), f"{ref!r} is not a feature ref; write "
                               "view:feature or view@3:feature")
        feature = ref.split(":", 1)[1]
        if feature == spec.source.label:
            raise loaded.error(("features", index), f"{ref!r} is the label; a model cannot "
                               "take its own target as an input", rule="pipeline.label_leak")
        if feature in columns:
            raise loaded.error(("features", index), f"{ref!r} names the input {feature!r} "
                               "that `inputs:` lists already", rule="pipeline.input_once")
        if feature in spec.model.protected_names:
            raise loaded.error(("features", index), f"{ref!r} is a protected attribute, "
                               "kept for fairness testing only; remove it from the features",
                               rule="registry.protected_not_input")


def _index_lines(node: yaml.Node, path: tuple[str | int, ...],
                 lines: dict[tuple[str | int, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            _index_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)


def _where(lines: dict[tuple[str | int, ...], int], location: tuple[Any, ...]) -> str:
    """`line 12, estimator.params`: the deepest part of `location` the file has a line for."""
    fields = [part for part in location if isinstance(part, int) or part in _known(lines)]
    name = ".".join(str(part) for part in fields) or "(top level)"
    for cut in range(len(fields), -1, -1):
        line = lines.get(tuple(fields[:cut]))
        if line is not None:
            return f"line {line}, {name}"
    return name


def _known(lines: dict[tuple[str | int, ...], int]) -> set[str]:
    """Names that can be fields: pydantic also puts type tags (`str`, ...) in locations."""
    fields = {alias or name for block in _Block.__subclasses__()
              for name, info in block.model_fields.items() for alias in (info.alias, None)}
    return {str(part) for path in lines for part in path} | fields


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "is not a field here (misspelt?)"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"]).removeprefix("Value error, ")
