"""Models, versions, aliases, stage history and lineage in SQL."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.canonical import canonical_json
from bankml.core.errors import ConflictError, DuplicateError, NotFoundError
from bankml.core.manifest import Manifest
from bankml.core.registry import Domain, Model, ModelVersion, Signature, Stage, StageChange
from bankml.core.serialisation import version_manifest_from_json, version_manifest_json
from bankml.stores.sql.tables import (
    model_aliases,
    model_stage_changes,
    model_version_features,
    model_versions,
    models,
)

# Built once: lookups by alias and number sit on the scoring path, and building a statement
# costs more than running it on SQLite.
BY_NUMBER = select(model_versions).where(model_versions.c.name == bindparam("name"),
                                         model_versions.c.number == bindparam("number"))
BY_ALIAS = select(model_versions).join(model_aliases, (
    model_aliases.c.name == model_versions.c.name)
    & (model_aliases.c.number == model_versions.c.number)).where(
    model_aliases.c.name == bindparam("name"), model_aliases.c.alias == bindparam("alias"))


class SqlModelVersions:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_model(self, model: Model) -> None:
        try:
            self._connection.execute(insert(models).values(name=model.name,
                                                           **_model_row(model)))
        except IntegrityError as exc:
            raise DuplicateError(f"Model {model.name!r} exists already.", field="name") from exc

    def update_model(self, model: Model) -> None:
        self._connection.execute(update(models).where(models.c.name == model.name)
                                 .values(**_model_row(model)))

    def find_model(self, name: str) -> Model | None:
        row = self._connection.execute(
            select(models).where(models.c.name == name)).one_or_none()
        return None if row is None else _model_from_row(row._asdict())

    def models(self) -> list[Model]:
        rows = self._connection.execute(select(models).order_by(models.c.name))
        return [_model_from_row(row._asdict()) for row in rows]

    def next_number(self, name: str) -> int:
        # Lock the model's row: concurrent registrations of one model take numbers in turn
        # (PostgreSQL; SQLite's write transaction holds the database lock already).
        self._connection.execute(select(models.c.name).where(models.c.name == name)
                                 .with_for_update())
        return self._highest_number(name) + 1

    def _highest_number(self, name: str) -> int:
        current = self._connection.execute(
            select(func.max(model_versions.c.number)).where(model_versions.c.name == name)
        ).scalar_one()
        return int(current or 0)

    def add(self, version: ModelVersion) -> None:
        try:
            self._connection.execute(insert(model_versions).values(
                name=version.name, number=version.number,
                artifact_sha256=version.artifact_sha256, flavour=version.flavour,
                created_at=version.created_at, created_by=version.created_by,
                stage=str(version.stage), metrics_json=canonical_json(version.metrics),
                inputs_json=canonical_json(version.inputs),
                signature_json=canonical_json(version.signature.describe()),
                dataset_sha256=version.dataset_sha256,
                manifest_json=version_manifest_json(version.manifest,
                                                    feature_views=version.feature_views),
                tags_json=canonical_json(version.tags),
            ))
        except IntegrityError as exc:
            raise DuplicateError(f"Model version {version.ref} exists already; "
                                 "versions are never overwritten.") from exc
        views = [_split_view(view) for view in version.feature_views]
        if views:
            self._connection.execute(insert(model_version_features), [
                {"name": version.name, "number": version.number, "feature_view": view,
                 "view_version": view_version} for view, view_version in views])

    def get(self, name: str, number: int) -> ModelVersion:
        row = self._connection.execute(BY_NUMBER, {"name": name, "number": number}
                                       ).one_or_none()
        if row is None:
            raise NotFoundError("model version", f"{name}@{number}", field="model")
        return _version_from_row(row._asdict())

    def latest(self, name: str) -> ModelVersion:
        number = self._highest_number(name)  # no lock: reads may be read-only
        if number == 0:
            raise NotFoundError("model", name, "It has no version yet.", field="model")
        return self.get(name, number)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        row = self._connection.execute(BY_ALIAS, {"name": name, "alias": alias}).one_or_none()
        if row is None:
            known = ", ".join(sorted(self.aliases(name))) or "none"
            raise NotFoundError("alias", f"{name}@{alias}", f"Aliases of {name}: {known}.",
                                field="model")
        return _version_from_row(row._asdict())

    def save_stage(self, version: ModelVersion, *, expected: Stage) -> None:
        # Compare-and-set: the stage changes only from the one the caller read.
        try:
            changed = self._connection.execute(update(model_versions).where(
                model_versions.c.name == version.name, model_versions.c.number == version.number,
                model_versions.c.stage == str(expected),
            ).values(stage=str(version.stage))).rowcount
        except IntegrityError as exc:  # the unique index on the prod version
            raise ConflictError(f"{version.name} has another version in prod already (moved "
                                f"there a moment ago); {version.ref} stays {expected}.",
                                rule="registry.one_prod_version") from exc
        if changed != 1:
            raise ConflictError(f"{version.ref} is no longer {expected}: another writer moved "
                                "it a moment ago. Nothing was changed; look again.",
                                rule="lifecycle.stage_unchanged")

    def all(self, name: str | None = None) -> list[ModelVersion]:
        query = _versions().order_by(model_versions.c.name, model_versions.c.number)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        return [_version_from_row(row._asdict()) for row in self._connection.execute(query)]

    def in_stage(self, name: str, stage: str) -> list[ModelVersion]:
        query = _versions().where(model_versions.c.name == name,
                                  model_versions.c.stage == stage)
        return [_version_from_row(row._asdict()) for row in self._connection.execute(query)]

    def set_alias(self, name: str, alias: str, number: int, *, set_at: str,
                  set_by: str) -> None:
        self.remove_alias(name, alias)
        self._connection.execute(insert(model_aliases).values(
            name=name, alias=alias, number=number, set_at=set_at, set_by=set_by))

    def remove_alias(self, name: str, alias: str) -> None:
        self._connection.execute(delete(model_aliases).where(
            model_aliases.c.name == name, model_aliases.c.alias == alias))

    def aliases(self, name: str) -> dict[str, int]:
        rows = self._connection.execute(select(model_aliases.c.alias, model_aliases.c.number)
                                        .where(model_aliases.c.name == name))
        return {row.alias: row.number for row in rows}

    def add_stage_change(self, change: StageChange) -> None:
        self._connection.execute(insert(model_stage_changes).values(
            name=change.name, number=change.number,
            source=None if change.source is None else str(change.source),
            target=str(change.target), changed_at=change.changed_at, actor=change.actor,
            reason=change.reason))

    def stage_changes(self, name: str, *, until: str | None = None) -> list[StageChange]:
        query = (select(model_stage_changes).where(model_stage_changes.c.name == name)
                 .order_by(model_stage_changes.c.id))
        if until is not None:
            query = query.where(model_stage_changes.c.changed_at <= until)
        return [StageChange(name=row.name, number=row.number,
                            source=None if row.source is None else Stage(row.source),
                            target=Stage(row.target), changed_at=row.changed_at,
                            actor=row.actor, reason=row.reason)
                for row in self._connection.execute(query)]

    def using_feature_view(self, view: str, version: int | None) -> list[ModelVersion]:
        used = select(model_version_features.c.name, model_version_features.c.number).where(
            model_version_features.c.feature_view == view)
        if version is not None:
            used = used.where(model_version_features.c.view_version == version)
        pairs = {(row.name, row.number) for row in self._connection.execute(used)}
        return [self.get(name, number) for name, number in sorted(pairs)]

    def trained_on_dataset(self, dataset_sha256: str) -> list[ModelVersion]:
        query = (_versions().where(model_versions.c.dataset_sha256 == dataset_sha256)
                 .order_by(model_versions.c.name, model_versions.c.number))
        return [_version_from_row(row._asdict()) for row in self._connection.execute(query)]


def _versions() -> Select[Any]:
    return select(model_versions)


def _split_view(view: str) -> tuple[str, int]:
    name, _, number = view.rpartition("@")
    return name, int(number)


def _model_row(model: Model) -> dict[str, Any]:
    return {"domain": str(model.domain), "risk_tier": model.risk_tier, "owner": model.owner,
            "developer": model.developer, "intended_use": model.intended_use,
            "limitations": model.limitations,
            "protected_attributes_json": canonical_json(list(model.protected_attributes))}


def _model_from_row(row: dict[str, Any]) -> Model:
    return Model(name=row["name"], domain=Domain(row["domain"]), risk_tier=row["risk_tier"],
                 owner=row["owner"], developer=row["developer"],
                 intended_use=row["intended_use"], limitations=row["limitations"],
                 protected_attributes=tuple(json.loads(row["protected_attributes_json"])))


@lru_cache(maxsize=1024)
def _signature(text: str) -> Signature:
    """Signatures are immutable and shared by many reads: parse each text once."""
    return Signature.from_description(json.loads(text))


@lru_cache(maxsize=1024)
def _manifest(text: str) -> tuple[Manifest | None, tuple[str, ...]]:
    """Manifests are immutable too, and reading one typed costs more than the lookup."""
    return version_manifest_from_json(text)


def _version_from_row(row: dict[str, Any]) -> ModelVersion:
    manifest, feature_views = _manifest(row["manifest_json"])
    return ModelVersion(
        name=row["name"], number=row["number"], artifact_sha256=row["artifact_sha256"],
        flavour=row["flavour"], created_at=row["created_at"], created_by=row["created_by"],
        stage=Stage(row["stage"]), metrics=json.loads(row["metrics_json"]),
        signature=_signature(row["signature_json"]),
        feature_views=feature_views,
        dataset_sha256=row["dataset_sha256"], manifest=manifest,
        tags=json.loads(row["tags_json"]),
    )
