"""Running a pipeline spec: data, split, fit, evaluate, register; and rebuilding a version.

A build is a pure function of the spec, the dataset, the code and its dependencies, the
thread settings and the platform: the manifest records each, so `reproduce` can rebuild a
version and say "identical" or name the input that differs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from threadpoolctl import threadpool_limits

from bankml.access import require
from bankml.core.canonical import sha256_hex, to_plain
from bankml.core.domains import profile
from bankml.core.errors import NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.manifest import CodeVersion, Environment, Manifest
from bankml.core.ports import (
    ArtifactStore,
    HistoricalFeatures,
    MetadataStore,
    PinnedFeature,
    StagedArtifact,
)
from bankml.core.registry import InputField, ModelVersion, Signature
from bankml.core.serialisation import manifest_to_plain
from bankml.registry import Registry
from bankml.registry.flavours import BUNDLE, ScoringModel, dump_bundle, untrusted_types
from bankml.registry.service import NewVersion
from bankml.training.allowlist import (
    SCIKIT_LEARN_CLASSIFIERS,
    AllowedEstimator,
    EstimatorAllowlist,
    check_estimator,
)
from bankml.training.checks import check_data
from bankml.training.data import SourceData, dataset_digest, numeric_columns, read_source
from bankml.training.environment import (
    available_cores,
    code_version,
    environment,
)
from bankml.training.spec import (
    LoadedSpec,
    OutOfTime,
    PipelineSpec,
    RandomSplit,
    load_spec,
    spec_from_manifest,
)

Progress = Callable[[str], None]
EVENT_TIMESTAMP = "event_timestamp"  # the column name the feature store joins on


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """A model built from a spec, not yet registered."""

    model: ScoringModel
    artifact: bytes
    signature: Signature
    metrics: dict[str, float]
    dataset: pd.DataFrame
    dataset_sha256: str
    snapshot: StagedArtifact | None  # the dataset as Parquet, staged in the artifact store
    feature_views: tuple[str, ...]
    manifest: Manifest  # without the snapshots' digests, known once they are committed
    protected: StagedArtifact | None = None  # the protected attributes by row, as Parquet


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One recorded input of a build that is not what it is now."""

    input: str
    recorded: Any
    now: Any

    def __str__(self) -> str:
        return f"{self.input}: recorded {self.recorded!r}, now {self.now!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reproduction:
    """A version rebuilt from its manifest and compared with what the registry holds."""

    version: ModelVersion
    rebuilt_sha256: str
    predictions_equal: bool
    differences: list[Difference] = field(default_factory=list)

    @property
    def is_identical(self) -> bool:
        """Same artifact bytes and bit-equal predictions."""
        return self.rebuilt_sha256 == self.version.artifact_sha256 and self.predictions_equal

    @property
    def verdict(self) -> str:
        if self.is_identical:
            notes = "; ".join(str(d) for d in self.differences)
            return "identical" + (f" (inputs that differ without effect: {notes})"
                                  if notes else "")
        if not self.differences:
            return ("different, though no recorded input differs: artifact "
                    f"{self.rebuilt_sha256[:16]} vs {self.version.artifact_sha256[:16]}")
        return "different: " + "; ".join(str(d) for d in self.differences)


class Trainer:
    """Builds versions from specs and rebuilds them from their manifests."""

    def __init__(self, metadata: MetadataStore, registry: Registry, artifacts: ArtifactStore,
                 *, datasets_dir: Path | None, features: HistoricalFeatures | None = None,
                 estimator_allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS) -> None:
        self._metadata, self._registry, self._artifacts = metadata, registry, artifacts
        self._datasets_dir, self._features = datasets_dir, features
        self._allowlist = estimator_allowlist

    def train(self, by: Principal, spec: Path | LoadedSpec, *,
              progress: Progress = _silent, data: Path | None = None) -> ModelVersion:
        """Run the spec and register the result as the model's next version; `data` reads
        the spec's source file from another path (a retraining's fresh rows)."""
        require(self._metadata, by, Permission.MODEL_REGISTER, f"spec:{spec}")
        loaded = (load_spec(spec, allowlist=self._allowlist) if isinstance(spec, Path)
                  else spec)
        built = self.build(loaded, progress, keep_snapshot=True, data=data)
        progress("registering the version")
        snapshot = built.snapshot.commit() if built.snapshot is not None else None
        protected = built.protected.commit() if built.protected is not None else None
        manifest = replace(built.manifest, dataset_snapshot_sha256=snapshot,
                           protected_snapshot_sha256=protected)
        return self._registry.register(by, loaded.spec.model.to_model(), NewVersion(
            artifact=built.artifact, flavour=BUNDLE, signature=built.signature,
            metrics=built.metrics, feature_views=built.feature_views,
            dataset_sha256=built.dataset_sha256, manifest=manifest,
            tags=dict(loaded.spec.tags)))

    def reproduce(self, by: Principal, ref: str, *, spec: Path | None = None,
                  data: Path | None = None, progress: Progress = _silent) -> Reproduction:
        """Rebuild `ref` from its manifest (or from `spec`, to test a change) and compare;
        `data` is where the spec's source file is now, if it has moved."""
        require(self._metadata, by, Permission.EVIDENCE_READ, f"model:{ref}")
        version = self._registry.get(ref)
        recorded = version.manifest
        if recorded is None:
            raise NotFoundError("manifest", version.ref, "Only versions built by `bankml "
                                "train` can be rebuilt.")
        # Either way the estimator is checked before anything is read or rebuilt.
        loaded = (load_spec(spec, allowlist=self._allowlist) if spec is not None
                  else spec_from_manifest(recorded, source=f"manifest of {version.ref}",
                                          allowlist=self._allowlist))
        # Feature refs read the view versions recorded, not whatever is newest today.
        built = self.build(loaded, progress, pins=dict(recorded.feature_refs), data=data)
        progress("comparing with the registered version")
        stored = self._registry.load(version)
        with threadpool_limits(limits=loaded.spec.threads):  # every row, both models
            before = stored.predict_proba(built.dataset)[:, 1]
            after = built.model.predict_proba(built.dataset)[:, 1]
        return Reproduction(version=version, rebuilt_sha256=sha256_hex(built.artifact),
                            predictions_equal=bool(np.array_equal(before, after)),
                            differences=_differences(recorded, built.manifest))

    def build(self, loaded: LoadedSpec, progress: Progress = _silent, *,
              pins: dict[str, str] | None = None, keep_snapshot: bool = False,
              data: Path | None = None) -> Build:
        """Everything `train` does except registering; `pins` maps feature refs to the
        pinned refs to read instead (`view:f` -> `view@3:f`); `keep_snapshot` stages the
        dataset as Parquet in the artifact store, for the caller to commit or discard."""
        spec = loaded.spec
        # Again here: a LoadedSpec may have been made without load_spec, or another allowlist.
        allowed = check_estimator(loaded, self._allowlist)
        progress("reading the source")
        source = read_source(loaded, self._datasets_dir, data=data)
        inputs, frame, feature_views, refs = self._inputs(loaded, source, pins or {})
        progress("checking columns, labels, timestamps and the data checks")
        dataset = _dataset(loaded, frame, inputs)
        quality = check_data(loaded, frame, dataset, inputs, progress)
        protected = protected_frame(loaded, frame)
        progress("splitting off the test set and holding out")
        sets = split_dataset(loaded, dataset)
        # What needs no fitted model is done during the fit, on a core the declared threads
        # leave free: hashing, pyarrow and file writes spend most of their time outside
        # the GIL. One worker, so its tasks run in the order they are given; it reads only
        # `dataset`, which nothing changes from here on.
        with ThreadPoolExecutor(1) as background:
            context = background.submit(_environment)
            digest = background.submit(dataset_digest, dataset)
            snapshot = (background.submit(_stage_snapshot, self._artifacts, dataset)
                        if keep_snapshot else None)
            protected_digest = background.submit(dataset_digest, protected)
            staged_protected = (background.submit(_stage_snapshot, self._artifacts, protected)
                                if keep_snapshot else None)
            try:
                model, artifact, metrics = _fit_and_evaluate(loaded, allowed, inputs, sets,
                                                             progress)
                dataset_sha256 = digest.result()
                code, ran_on = context.result()
                manifest = Manifest(
                    spec=spec.described(), spec_sha256=spec.digest(),
                    spec_folder=str(loaded.folder.resolve()), data_source=source.described,
                    dataset_sha256=dataset_sha256, dataset_rows=len(dataset),
                    feature_refs=refs, feature_views=feature_views, code=code,
                    environment=ran_on, seed=spec.seed, threads=spec.threads,
                    splits={name: len(rows) for name, rows in sets.items()},
                    protected_sha256=protected_digest.result(), data_quality=quality)
                return Build(model=model, artifact=artifact,
                             signature=_signature(spec, sets["train"], inputs),
                             metrics=metrics, dataset=dataset, dataset_sha256=dataset_sha256,
                             snapshot=snapshot.result() if snapshot is not None else None,
                             feature_views=feature_views, manifest=manifest,
                             protected=(staged_protected.result()
                                        if staged_protected is not None else None))
            except BaseException:
                _discard(snapshot)
                _discard(staged_protected)
                raise

    def _inputs(self, loaded: LoadedSpec, source: SourceData, pins: dict[str, str]
                ) -> tuple[list[str], pd.DataFrame, tuple[str, ...], dict[str, str]]:
        """Input names and the frame holding them; feature refs are joined point in time."""
        spec = loaded.spec
        columns = [c.name for c in spec.input_columns]
        if not spec.features:
            return columns, source.frame, (), {}
        if self._features is None:
            raise loaded.error(("features",), "these are feature store refs, but no feature "
                               "store is wired into this platform; list source columns "
                               "under `inputs:` instead", rule="pipeline.feature_store")
        pinned: list[PinnedFeature] = []
        for index, ref in enumerate(spec.features):
            try:
                pinned += self._features.resolve([pins.get(ref, ref)])
            except NotFoundError as exc:
                raise loaded.error(("features", index), str(exc),
                                   rule="pipeline.feature_known") from None
        keys = [*spec.source.entity, str(spec.source.event_timestamp)]  # checked at load
        _require(loaded, source.frame, keys, ("source",))
        entities = source.frame[keys].rename(
            columns={spec.source.event_timestamp: EVENT_TIMESTAMP})
        # The pinned refs, so the rows come from exactly the versions recorded below.
        joined = self._features.get_historical_features(entities, [p.pinned for p in pinned])
        names = [p.feature for p in pinned]
        frame = source.frame.copy()
        for name in names:
            frame[name] = joined[name].to_numpy()
        views = tuple(sorted({f"{p.view}@{p.number}" for p in pinned}))
        pins_read = {ref: p.pinned for ref, p in zip(spec.features, pinned, strict=True)}
        return [*columns, *names], frame, views, pins_read


def _fit_and_evaluate(loaded: LoadedSpec, allowed: AllowedEstimator, inputs: list[str],
                      sets: dict[str, pd.DataFrame], progress: Progress
                      ) -> tuple[ScoringModel, bytes, dict[str, float]]:
    """The fitted model, its artifact and its metrics, under the declared thread limit."""
    spec = loaded.spec
    with threadpool_limits(limits=spec.threads):
        progress(f"fitting {spec.estimator.kind} on {len(sets['train']):,} rows")
        model = _fit(loaded, allowed, inputs, sets)
        progress("serialising the artifact")
        artifact = _artifact(loaded, model)
        progress("evaluating on the holdout and out-of-time test sets")
        return model, artifact, _metrics(spec, model, sets)


def _environment() -> tuple[CodeVersion, Environment]:
    return code_version(), environment()


def _artifact(loaded: LoadedSpec, model: ScoringModel) -> bytes:
    """The model's bytes; refused here, before anything is stored, if loading would refuse
    them: a version nobody could load is useless."""
    artifact = dump_bundle(model)
    refused = untrusted_types(artifact)
    if refused:
        raise loaded.error(("estimator",), "the fitted model holds types outside the "
                           f"trusted allowlist ({', '.join(refused)}); choose another "
                           "estimator or have the type reviewed and allowed",
                           rule="artifact.trusted_types")
    return artifact


def _stage_snapshot(artifacts: ArtifactStore, dataset: pd.DataFrame) -> StagedArtifact:
    return artifacts.stage(_parquet(dataset))


def _discard(snapshot: Future[StagedArtifact] | None) -> None:
    """Drop a staged snapshot once its staging has ended, if it got that far."""
    if snapshot is not None and snapshot.exception() is None:
        snapshot.result().discard()


def _parquet(dataset: pd.DataFrame) -> bytes:
    """The dataset as Parquet, dictionary-encoded only where values repeat (text,
    categories, flags): on measured numbers the encoder tries, gives up, and makes the
    whole write ~5x slower."""
    table = pa.Table.from_pandas(dataset, preserve_index=False)
    repeating = [field.name for field in table.schema
                 if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)
                         or pa.types.is_timestamp(field.type))]
    buffer = io.BytesIO()
    pq.write_table(table, buffer, use_dictionary=repeating)
    return buffer.getvalue()


def _require(loaded: LoadedSpec, frame: pd.DataFrame, columns: list[str],
             location: tuple[str | int, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise loaded.error(location, f"column {column!r} is not in the source; it has "
                               f"{', '.join(map(str, frame.columns))}",
                               rule="pipeline.column_known")


def _dataset(loaded: LoadedSpec, frame: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """The training dataset: keys, event time, split date, inputs, as-of columns, label."""
    spec = loaded.spec
    for key in ("entity", "event_timestamp", "label"):
        value = getattr(spec.source, key)
        if value is not None:
            _require(loaded, frame, value if isinstance(value, list) else [value],
                     ("source", key))
    dates = [spec.date_column] if spec.date_column is not None else []
    _require(loaded, frame, dates, ("split", "out_of_time"))
    group = spec.split.random.group_by if spec.split.random is not None else None
    if group is not None:
        _require(loaded, frame, [group], ("split", "random", "group_by"))
    if spec.source.value is not None:
        _require(loaded, frame, [spec.source.value], ("source", "value"))
        if not pd.api.types.is_numeric_dtype(frame[spec.source.value]):
            raise loaded.error(("source", "value"), f"{spec.source.value!r} must hold "
                               "numbers (the amount at stake per row)")
    weight = _weight_column(loaded, frame, inputs)
    for index, column in enumerate(spec.input_columns):
        _require(loaded, frame, [column.name], ("inputs", index))
        if column.as_of is not None:
            _require(loaded, frame, [column.as_of], ("inputs", index, "as_of"))
    for index, name in enumerate(inputs):
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            raise loaded.error(("inputs", index), f"{name!r} is a timestamp; derive a number "
                               "from it (e.g. days since) instead")
    _check_no_leak(loaded, frame)
    _check_rows_identified(loaded, frame)
    extra = [c.as_of for c in spec.input_columns if c.as_of is not None]
    times = [c for c in (spec.source.event_timestamp, spec.date_column, group)
             if c is not None]
    columns = list(dict.fromkeys([*spec.source.entity, *times, *inputs, *extra,
                                  spec.source.label, *weight]))
    return frame[columns].reset_index(drop=True)


def _weight_column(loaded: LoadedSpec, frame: pd.DataFrame, inputs: list[str]) -> list[str]:
    """The sampling-weight column, checked: known, not an input or the label, positive
    finite numbers (a row standing for no one, or for infinitely many, is an error)."""
    name = loaded.spec.source.weight
    if name is None:
        return []
    where = ("source", "weight")
    _require(loaded, frame, [name], where)
    if name in inputs or name == loaded.spec.source.label:
        raise loaded.error(where, f"{name!r} is an input or the label; sampling weights "
                           "only weigh the metrics", rule="pipeline.weight_apart")
    values = frame[name]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) \
            or not (np.isfinite(values.to_numpy(dtype=np.float64)).all() and (values > 0).all()):
        raise loaded.error(where, f"{name!r} must hold positive finite numbers (how many "
                           "population rows each row stands for)", rule="pipeline.weight_valid")
    return [name]


def _check_rows_identified(loaded: LoadedSpec, frame: pd.DataFrame) -> None:
    """The entity keys with the event time name one row each: validation joins the
    protected attributes (and the value column) back on them, and a repeated key would
    join them to the wrong rows."""
    keys = row_identity(loaded)
    repeated = frame.duplicated(keys, keep=False)
    if repeated.any():
        first = frame.loc[repeated, keys].iloc[0]
        example = ", ".join(f"{k}={first[k]}" for k in keys)
        raise loaded.error(("source", "entity"), (
            f"{' + '.join(keys)} must identify one row each; {int(repeated.sum())} rows "
            f"share a key (first: {example}). Name a key that is unique per application, "
            "e.g. an application id"), rule="pipeline.entity_unique")


def protected_frame(loaded: LoadedSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's protected attributes by row (row identity + attributes), checked: each
    has a value on every row (an unknown one is coded explicitly). That each is in the
    source, the data checks have made sure (`data.protected_present`)."""
    spec = loaded.spec
    attributes = list(spec.model.protected_names)
    for index, name in enumerate(attributes):
        missing = int(frame[name].isna().sum())
        if missing:
            raise loaded.error(("model", "protected_attributes", index), (
                f"{name!r} is missing on {missing} of {len(frame)} rows; fairness is tested "
                "on every row, so code an unknown value explicitly (e.g. 'unknown')"),
                rule="pipeline.protected_complete")
    keys = row_identity(loaded)
    return frame[list(dict.fromkeys([*keys, *attributes]))].reset_index(drop=True)


def row_identity(loaded: LoadedSpec) -> list[str]:
    """The columns that name one row of the dataset: the entity keys and the event time
    (the keys alone in data without dates)."""
    source = loaded.spec.source
    times = [] if source.event_timestamp is None else [source.event_timestamp]
    return list(dict.fromkeys([*source.entity, *times]))


def _check_no_leak(loaded: LoadedSpec, frame: pd.DataFrame) -> None:
    """A value observed after the event time would carry knowledge of the label period."""
    spec = loaded.spec
    if spec.source.event_timestamp is None:  # then no input has `as_of` (checked at load)
        return
    event_time = pd.to_datetime(frame[spec.source.event_timestamp], utc=True)
    for index, column in enumerate(spec.input_columns):
        if column.as_of is None:
            continue
        observed = pd.to_datetime(frame[column.as_of], utc=True)
        late = observed > event_time
        if late.any():
            first = int(np.argmax(late.to_numpy()))
            raise loaded.error(("inputs", index), (
                f"{column.name!r} was observed after {spec.source.event_timestamp} on "
                f"{int(late.sum())} rows (first: row {first}, {column.as_of} "
                f"{observed.iloc[first]} > {event_time.iloc[first]}); it would leak the label "
                "period. Use values known at the event time."), rule="pipeline.label_leak")


def split_dataset(loaded: LoadedSpec, dataset: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Out of time: test from the date on; before it, a seeded stratified holdout."""
    spec = loaded.spec
    labels = dataset[spec.source.label].to_numpy()
    # Row positions are split, and each set taken from the dataset once at the end.
    if spec.split.random is not None:
        where: tuple[str | int, ...] = ("split", "random", "test_share")
        pool, test = _random_test(loaded, dataset, labels, spec.split.random, where)
    else:
        where = ("split", "out_of_time", "test_from")
        pool, test = _out_of_time_test(loaded, dataset, spec.split.out_of_time, where)
    train, holdout = _share(loaded, pool, labels, share=spec.split.holdout.share,
                            seed=spec.seed, where=("split", "holdout", "share"))
    positions = {"train": train, "holdout": holdout, "test": test}
    if spec.calibration is not None:
        positions["train"], positions["calibration"] = _share(
            loaded, train, labels, share=spec.calibration.share, seed=spec.seed + 1,
            where=("calibration", "share"))
    for name, rows in positions.items():
        if (labels[rows] == labels[rows[0]]).all():
            raise loaded.error(where if name == "test" else ("split", "holdout"),
                               f"the {name} set ({len(rows)} rows) holds only one label "
                               "value; it cannot be fitted or evaluated",
                               rule="pipeline.split_nonempty")
    return {name: dataset.take(rows) for name, rows in positions.items()}


def _out_of_time_test(loaded: LoadedSpec, dataset: pd.DataFrame, declared: OutOfTime | None,
                      where: tuple[str | int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Rows before the date to train on; rows from it on to test."""
    spec = loaded.spec
    if declared is None or spec.date_column is None:  # the spec's own check refuses this
        raise loaded.error(("split",), "no split is declared")
    cut = declared.test_from
    dates = pd.to_datetime(dataset[spec.date_column], utc=True)
    is_test = (dates >= pd.Timestamp(cut, tz="UTC")).to_numpy()
    test, pool = np.flatnonzero(is_test), np.flatnonzero(~is_test)
    if not test.size:
        raise loaded.error(where, f"{cut} leaves the out-of-time test set empty: the latest "
                           f"{spec.date_column} is {dates.max()}", rule="pipeline.split_nonempty")
    if not pool.size:
        raise loaded.error(where, f"{cut} leaves no rows before it to train on: the earliest "
                           f"{spec.date_column} is {dates.min()}", rule="pipeline.split_nonempty")
    return pool, test


def _random_test(loaded: LoadedSpec, dataset: pd.DataFrame, labels: np.ndarray,
                 declared: RandomSplit, where: tuple[str | int, ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A seeded share of the rows to test: stratified by label, or by whole groups."""
    from sklearn.model_selection import GroupShuffleSplit  # noqa: PLC0415 - loads on first use
    spec = loaded.spec
    rows = np.arange(len(dataset))
    if declared.group_by is None:
        return _share(loaded, rows, labels, share=declared.test_share, seed=spec.seed,
                      where=where)
    groups = dataset[declared.group_by].to_numpy()
    if len(pd.unique(groups)) < 2:
        raise loaded.error(("split", "random", "group_by"), f"{declared.group_by!r} holds "
                           "one group; a grouped split needs two or more",
                           rule="pipeline.split_nonempty")
    splitter = GroupShuffleSplit(n_splits=1, test_size=declared.test_share,
                                 random_state=spec.seed)
    pool, test = next(splitter.split(rows, labels, groups))
    return np.sort(pool), np.sort(test)


def _share(loaded: LoadedSpec, rows: np.ndarray, labels: np.ndarray, *, share: float,
           seed: int, where: tuple[str | int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """`rows` split in two, `share` of them taken out, stratified by label when possible."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415 - loads on first use
    counts = pd.Series(labels[rows]).value_counts()  # by hashing: no sort
    stratify = labels[rows] if len(counts) == 2 and counts.min() >= 2 else None
    try:
        kept, taken = train_test_split(rows, test_size=share, random_state=seed,
                                       stratify=stratify)
    except ValueError as exc:
        raise loaded.error(where, f"{share} of {len(rows)} rows leaves a set empty ({exc})",
                           rule="pipeline.split_nonempty") from None
    return kept, taken


def _fit(loaded: LoadedSpec, allowed: AllowedEstimator, inputs: list[str],
         sets: dict[str, pd.DataFrame]) -> ScoringModel:
    # These load scikit-learn and LightGBM: here, not with the platform that every command opens.
    from bankml.training.estimators import (  # noqa: PLC0415
        EstimatorError,
        fit_calibrator,
        fit_estimator,
    )
    from bankml.training.preprocessing import build_preprocessing  # noqa: PLC0415
    spec = loaded.spec
    train, label = sets["train"], spec.source.label
    preprocess = build_preprocessing(spec.preprocessing, train[inputs])
    features = preprocess.fit_transform(train[inputs], train[label])
    categorical: list[int] = []
    if (spec.estimator.kind == "lightgbm" and spec.preprocessing.woe_binning is None
            and spec.preprocessing.categorical.encode == "ordinal"):
        first = len(numeric_columns(train[inputs]))
        categorical = list(range(first, len(inputs)))
    try:
        estimator = fit_estimator(allowed, features, train[label].to_numpy(),
                                  seed=spec.seed, threads=spec.threads, categorical=categorical)
    except EstimatorError as exc:
        raise loaded.error(("estimator",), str(exc), rule="pipeline.estimator") from None
    model = ScoringModel(inputs=inputs, preprocess=preprocess, estimator=estimator)
    if spec.calibration is None:
        return model
    calibration = sets["calibration"]
    calibrator = fit_calibrator(spec.calibration, model.raw_scores(calibration),
                                calibration[label].to_numpy())
    return ScoringModel(inputs=inputs, preprocess=preprocess, estimator=estimator,
                        calibration=spec.calibration.method, calibrator=calibrator)


def _metrics(spec: PipelineSpec, model: ScoringModel,
             sets: dict[str, pd.DataFrame]) -> dict[str, float]:
    from bankml.training.evaluation import evaluate, outcome_shares  # noqa: PLC0415 - sklearn
    # Every core scores: a row's score does not depend on how many threads score the rows,
    # unlike the fit, which keeps the declared threads.
    threads = max(spec.threads, available_cores())
    metrics: dict[str, float] = {}
    scored = {name: model.predict_proba(sets[name], threads=threads)[:, 1]
              for name in ("holdout", "test")}
    # A top-share policy's cut-off is read off the development sample: the holdout.
    policy = spec.decision_policy.to_policy(f"spec:{spec.digest()[:12]}",
                                            scores=scored["holdout"].tolist())
    for name, scores in scored.items():
        labels = sets[name][spec.source.label].to_numpy()
        weights = (None if spec.source.weight is None
                   else sets[name][spec.source.weight].to_numpy(dtype=np.float64))
        metrics |= evaluate(spec.metrics, labels, scores, prefix=name, weights=weights)
        metrics |= outcome_shares(policy, scores, prefix=name, weights=weights)
    metrics |= {f"policy.{name}": value for name, value in policy.cutoffs().items()
                if spec.decision_policy.top_share is not None}
    metrics |= {f"rows.{name}": float(len(rows)) for name, rows in sets.items()}
    return metrics


def _signature(spec: PipelineSpec, train: pd.DataFrame, inputs: list[str]) -> Signature:
    fields = []
    for name in inputs:
        values = train[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            fields.append(InputField(name=name, dtype=str(values.dtype),
                                     minimum=to_plain(float(values.min())),
                                     maximum=to_plain(float(values.max()))))
        else:
            fields.append(InputField(name=name, dtype="category", categories=tuple(
                sorted(str(v) for v in values.dropna().unique()))))
    return Signature(inputs=tuple(fields), output=profile(spec.model.domain).output)


def _differences(recorded: Manifest, now: Manifest) -> list[Difference]:
    """Every recorded input whose value is not the same now, named by its path in the
    stored manifest (`spec.seed`, `dependencies.numpy`, `dataset_sha256`)."""
    keys = ("spec", "dataset_sha256", "feature_views", "code", "dependencies", "seeds",
            "threads", "platform")
    before, after = manifest_to_plain(recorded), manifest_to_plain(now)
    found: list[Difference] = []
    for key in keys:
        found += _diff(key, before.get(key), after.get(key))
    if recorded.protected_sha256 is not None:  # versions trained since it was kept
        found += _diff("protected_sha256", recorded.protected_sha256, now.protected_sha256)
    return found


def _diff(path: str, recorded: Any, now: Any) -> list[Difference]:
    if isinstance(recorded, dict) and isinstance(now, dict):
        return [difference for key in sorted(set(recorded) | set(now))
                for difference in _diff(f"{path}.{key}", recorded.get(key), now.get(key))]
    return [] if recorded == now else [Difference(input=path, recorded=recorded, now=now)]

