"""The registry's use cases: define models, register versions, alias, trace, load.

Each change is made by a principal whose permission is checked in the change's own
transaction, together with its audit event. Stages move only through governance: the
lifecycle's one door (`bankml.registry.lifecycle.move`) takes the caller's transaction
and is not on this service's public face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bankml.access import acting, audited_refusals, require
from bankml.core.canonical import sha256_hex, utc_timestamp
from bankml.core.errors import DuplicateError, InvalidInputError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.limits import PERSON_CHARS, check_text
from bankml.core.manifest import DataSource, Manifest
from bankml.core.ports import ArtifactStore, MetadataStore, Transaction
from bankml.core.registry import (
    Domain,
    Model,
    ModelVersion,
    Signature,
    Stage,
    StageChange,
    check_alias,
    check_alias_target,
    check_model_name,
    parse_model_ref,
    production_version_at,
)
from bankml.core.serialisation import result_from_json
from bankml.registry.card import CardEvidence, ModelCard
from bankml.registry.flavours import SKLEARN, check_format, dump_sklearn, load_model

REGISTER_ATTEMPTS = 5  # concurrent registrations of one model retry on a taken number


@dataclass(frozen=True, slots=True, kw_only=True)
class NewVersion:
    """What a caller knows about a build before the registry numbers it."""

    artifact: bytes
    flavour: str
    signature: Signature
    metrics: dict[str, float] = field(default_factory=dict)
    feature_views: tuple[str, ...] = ()
    dataset_sha256: str = ""
    manifest: Manifest | None = None  # None: built outside `bankml train`
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lineage:
    """Where a version came from: its data, features and the spec that built it."""

    version: ModelVersion
    dataset_sha256: str
    data_source: DataSource | None  # None: registered by hand
    feature_views: tuple[str, ...]
    spec_sha256: str | None
    siblings_on_dataset: list[str]  # other versions trained on the same dataset


class Registry:
    """Models and their versions: each version an immutable artifact plus what is known of it."""

    def __init__(self, metadata: MetadataStore, artifacts: ArtifactStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._artifacts, self._clock = metadata, artifacts, clock

    # --- models --------------------------------------------------------------------------

    def define_model(self, by: Principal, model: Model) -> Model:
        """Record a model, or update what is said about it; unchanged definitions are no-ops."""
        with acting(self._metadata, by, Permission.MODEL_REGISTER, f"model:{model.name}") as tx:
            self._define(tx, model, by.name)
        return model

    def model(self, name: str) -> Model:
        with self._metadata.reading() as tx:
            found = tx.models.find_model(name)
        if found is None:
            raise NotFoundError("model", name, "Define it in a pipeline spec's `model:` block "
                                "and run `bankml train`.")
        return found

    def models(self) -> list[Model]:
        with self._metadata.reading() as tx:
            return tx.models.models()

    # --- versions ------------------------------------------------------------------------

    def register(self, by: Principal, model: Model, new: NewVersion) -> ModelVersion:
        """Store the artifact and record it, with its model, as the model's next version."""
        subject = f"model:{model.name}"
        require(self._metadata, by, Permission.MODEL_REGISTER, subject)
        with audited_refusals(self._metadata, by, subject):
            protected = sorted(set(new.signature.input_names) & set(model.protected_attributes))
            if protected:
                raise InvalidInputError(
                    "inputs", f"{', '.join(protected)} of model {model.name!r} is a protected "
                    "attribute, kept for fairness testing only; remove it from the inputs",
                    rule="registry.protected_not_input")
            # Bytes nobody could load are refused before they are stored.
            check_format(new.flavour, new.artifact, sha256_hex(new.artifact))
        digest = self._artifacts.put(new.artifact)
        for attempt in range(1, REGISTER_ATTEMPTS + 1):
            try:
                return self._record(by, model, new, digest)
            except DuplicateError:
                # Another writer defined the model first (numbers are taken under a lock
                # once it exists): count again.
                if attempt == REGISTER_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, by: Principal, model: Model, new: NewVersion,
                digest: str) -> ModelVersion:
        # The manifest names the views the version is registered with.
        manifest = (None if new.manifest is None
                    else replace(new.manifest, feature_views=new.feature_views))
        actor = by.name
        with acting(self._metadata, by, Permission.MODEL_REGISTER,
                    f"model:{model.name}") as tx:
            self._define(tx, model, actor)
            version = ModelVersion(
                name=model.name, number=tx.models.next_number(model.name),
                artifact_sha256=digest, flavour=new.flavour,
                created_at=utc_timestamp(self._clock()), created_by=actor,
                metrics=new.metrics, signature=new.signature,
                feature_views=new.feature_views, dataset_sha256=new.dataset_sha256,
                manifest=manifest, tags=new.tags,
            )
            tx.models.add(version)
            tx.models.add_stage_change(StageChange(
                name=version.name, number=version.number, source=None, target=Stage.DEV,
                changed_at=version.created_at, actor=actor, reason="registered"))
            tx.audit.record(actor, "model.registered", f"model:{version.ref}",
                            version.describe())
        return version

    def register_sklearn(self, by: Principal, name: str, model: Any, *, inputs: list[str],
                         metrics: dict[str, float]) -> ModelVersion:
        """Register a fitted scikit-learn model built outside a pipeline spec.

        A model not defined before is defined with domain `other`, risk tier 3 and the
        registrant as owner and developer; correct it with `define_model`.
        """
        check_model_name(name)
        known = self._find_model(name)
        definition = known or Model(name=name, domain=Domain.OTHER, risk_tier=3, owner=by.name,
                                    developer=by.name)
        return self.register(by, definition, NewVersion(
            artifact=dump_sklearn(model), flavour=SKLEARN,
            signature=Signature.of_names(inputs), metrics=metrics))

    def get(self, ref: str) -> ModelVersion:
        """`NAME@3`, `NAME@champion` (an alias) or `NAME` (the latest version)."""
        name, selector = parse_model_ref(ref)
        with self._metadata.reading() as tx:
            if selector is None:
                return tx.models.latest(name)
            if isinstance(selector, int):
                return tx.models.get(name, selector)
            return tx.models.by_alias(name, selector)

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        with self._metadata.reading() as tx:
            return tx.models.all(name)

    def aliases(self, name: str) -> dict[str, int]:
        with self._metadata.reading() as tx:
            return tx.models.aliases(name)

    def load(self, version: ModelVersion) -> Any:
        """The fitted model, only after its bytes matched the registered digest."""
        content = self._artifacts.get(version.artifact_sha256)
        return load_model(version.flavour, content, version.artifact_sha256)

    # --- aliases --------------------------------------------------------------------------

    def set_alias(self, by: Principal, name: str, alias: str, number: int | None, *,
                  reason: str = "") -> int | None:
        """Point `alias` at version `number`, or remove it when `number` is None.

        The only way an alias changes. Returns the version it pointed at before, if any.
        """
        check_alias(alias)
        with acting(self._metadata, by, Permission.MODEL_ALIAS, f"model:{name}") as tx:
            before = tx.models.aliases(name).get(alias)
            if number is None:
                if before is None:
                    raise NotFoundError("alias", f"{name}@{alias}", "Nothing to remove.")
                tx.models.remove_alias(name, alias)
            else:
                check_alias_target(tx.models.get(name, number), alias)
                tx.models.set_alias(name, alias, number, set_at=utc_timestamp(self._clock()),
                                    set_by=by.name)
            action = "model.alias_removed" if number is None else "model.alias_set"
            tx.audit.record(by.name, action, f"model:{name}", {
                "alias": alias, "version": number, "previous": before, "reason": reason})
        return before

    # --- history and lineage -------------------------------------------------------------

    def history(self, name: str) -> list[StageChange]:
        with self._metadata.reading() as tx:
            return tx.models.stage_changes(name)

    def in_production_at(self, name: str, moment: datetime) -> ModelVersion | None:
        """The version that was in prod at `moment`, from the registry's own history."""
        until = utc_timestamp(moment)
        with self._metadata.reading() as tx:
            number = production_version_at(tx.models.stage_changes(name, until=until), until)
            return None if number is None else tx.models.get(name, number)

    def using_feature_view(self, view_ref: str) -> list[ModelVersion]:
        """Versions trained on `view@3`, or on any version of `view`."""
        view, _, number = view_ref.partition("@")
        if not view or (number and not number.isdigit()):
            raise InvalidInputError("feature_view", f"{view_ref!r}: write VIEW or VIEW@VERSION")
        with self._metadata.reading() as tx:
            return tx.models.using_feature_view(view, int(number) if number else None)

    def lineage(self, ref: str) -> Lineage:
        """The dataset, feature views and spec behind a version."""
        version = self.get(ref)
        manifest = version.manifest
        with self._metadata.reading() as tx:
            same_data = (tx.models.trained_on_dataset(version.dataset_sha256)
                         if version.dataset_sha256 else [])
        return Lineage(version=version, dataset_sha256=version.dataset_sha256,
                       data_source=None if manifest is None else manifest.data_source,
                       feature_views=version.feature_views,
                       spec_sha256=None if manifest is None else manifest.spec_sha256,
                       siblings_on_dataset=[v.ref for v in same_data if v.ref != version.ref])

    def card(self, ref: str) -> ModelCard:
        """The version's model card (`.markdown()`, `.html()`)."""
        version = self.get(ref)
        with self._metadata.reading() as tx:
            aliases = sorted(a for a, n in tx.models.aliases(version.name).items()
                             if n == version.number)
            history = tx.models.stage_changes(version.name)
            runs = tuple(tx.validation_runs.of(version.name, version.number))
            signoffs = tuple(s for s in tx.oversight.signoffs(version.name)
                             if s.version == version.number)
            requests = tuple(r for r in tx.oversight.requests(model=version.name)
                             if r.version == version.number)
        evidence = CardEvidence(runs=runs, signoffs=signoffs, requests=requests)
        # fairness as the gates read it: the run the latest sign-off rests on, else the
        # latest independent run
        rested = signoffs[-1].run_id if signoffs else None
        independent = [r for r in runs if not r.self_test]
        chosen = next((r for r in runs if r.run_id == rested), None) or (
            independent[-1] if independent else None)
        if chosen is not None:
            result = result_from_json(self._artifacts.get(chosen.result_sha256))
            evidence = replace(evidence, fairness_run=chosen.run_id, fairness=tuple(
                t for t in result.tests if t.test.startswith("fairness.")))
        return ModelCard(model=self.model(version.name), version=version, aliases=aliases,
                         history=history, evidence=evidence)

    # --- inside a transaction ------------------------------------------------------------

    def _find_model(self, name: str) -> Model | None:
        with self._metadata.reading() as tx:
            return tx.models.find_model(name)

    def _define(self, tx: Transaction, model: Model, actor: str) -> None:
        check_text("owner", model.owner, PERSON_CHARS)
        check_text("developer", model.developer, PERSON_CHARS)
        known = tx.models.find_model(model.name)
        if known == model:
            return
        if known is None:
            tx.models.add_model(model)
            tx.audit.record(actor, "model.defined", f"model:{model.name}", model.describe())
        else:
            tx.models.update_model(model)
            tx.audit.record(actor, "model.updated", f"model:{model.name}",
                            {"before": known.describe(), "after": model.describe()})
