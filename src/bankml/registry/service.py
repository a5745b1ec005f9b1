"""Registering model versions and loading them back, verified."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bankml.core.canonical import utc_timestamp
from bankml.core.errors import InvalidInputError
from bankml.core.ports import ArtifactStore, MetadataStore
from bankml.core.registry import ModelVersion, parse_model_ref
from bankml.registry.flavours import SKLEARN, dump_sklearn, load_sklearn


class Registry:
    """Model versions: each an immutable artifact plus what is known about it."""

    def __init__(self, metadata: MetadataStore, artifacts: ArtifactStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._artifacts, self._clock = metadata, artifacts, clock

    def register_sklearn(self, name: str, model: Any, *, inputs: list[str],
                         metrics: dict[str, float], actor: str) -> ModelVersion:
        """Store a fitted scikit-learn model and record it as the model's next version."""
        if not name or "@" in name:
            raise InvalidInputError("name", f"{name!r} is not a model name: it must be "
                                    "non-empty and free of '@'")
        digest = self._artifacts.put(dump_sklearn(model))
        with self._metadata.transaction() as tx:
            version = ModelVersion(
                name=name, number=tx.models.next_number(name), artifact_sha256=digest,
                flavour=SKLEARN, created_at=utc_timestamp(self._clock()), created_by=actor,
                metrics=metrics, inputs=inputs,
            )
            tx.models.add(version)
            tx.audit.record(actor, "model.registered", f"model:{version.ref}",
                            version.describe())
        return version

    def get(self, ref: str) -> ModelVersion:
        name, number = parse_model_ref(ref)
        with self._metadata.reading() as tx:
            return tx.models.latest(name) if number is None else tx.models.get(name, number)

    def versions(self) -> list[ModelVersion]:
        with self._metadata.reading() as tx:
            return tx.models.all()

    def load(self, version: ModelVersion) -> Any:
        """The fitted model, only after its bytes matched the registered digest."""
        content = self._artifacts.get(version.artifact_sha256)
        return load_sklearn(content, version.artifact_sha256)
