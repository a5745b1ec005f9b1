"""Endpoints as data: apply a definition (a new version only when it changed), list, show.

An endpoint is checked against the model it serves before it is recorded: the model's
`champion` must be a version in prod, the policy kind must fit the model's domain, the
reason catalogue must cover exactly the champion's inputs, and the entity keys and
defaults must make sense for what the champion reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bankml.access import acting, require
from bankml.core.canonical import utc_timestamp
from bankml.core.domains import profile
from bankml.core.endpoints import Endpoint, EndpointVersion, check_endpoint_name
from bankml.core.errors import ConflictError, InvalidInputError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.ports import MetadataStore
from bankml.core.registry import ModelVersion, Stage
from bankml.explain import load_catalogue
from bankml.registry import Registry
from bankml.serving.endpoint_files import load_endpoint
from bankml.serving.inputs import feature_inputs

CHAMPION = "champion"


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    """What applying one endpoint definition did."""

    version: EndpointVersion
    created: bool  # False: the definition is unchanged, no new version


class EndpointCatalog:
    """Applied endpoint definitions and their versions."""

    def __init__(self, metadata: MetadataStore, registry: Registry,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._registry, self._clock = metadata, registry, clock

    def apply(self, by: Principal, definition: Path | Endpoint) -> Applied:
        """Record the endpoint as a new version unless its latest version is identical."""
        endpoint = load_endpoint(definition) if isinstance(definition, Path) else definition
        subject = f"endpoint:{endpoint.name}"
        require(self._metadata, by, Permission.ENDPOINT_APPLY, subject)
        champion = champion_of(self._registry, endpoint.model)
        check_fits(endpoint, champion, self._registry.model(endpoint.model).domain)
        digest = endpoint.digest()
        with acting(self._metadata, by, Permission.ENDPOINT_APPLY, subject) as tx:
            try:
                latest: EndpointVersion | None = tx.endpoints.latest(endpoint.name)
            except NotFoundError:
                latest = None
            if latest is not None and latest.digest == digest:
                tx.audit.record(by.name, "endpoint.applied", f"endpoint:{latest.ref}",
                                {"digest": digest, "new_version": False})
                return Applied(version=latest, created=False)
            version = EndpointVersion(
                name=endpoint.name, number=tx.endpoints.next_number(endpoint.name),
                digest=digest, spec=endpoint.spec(), description=endpoint.description,
                owner=endpoint.owner, created_at=utc_timestamp(self._clock()),
                created_by=by.name)
            tx.endpoints.add(version)
            tx.audit.record(by.name, "endpoint.applied", f"endpoint:{version.ref}", {
                "digest": digest, "new_version": True, "model": endpoint.model,
                "champion": champion.ref, "mode": str(endpoint.mode),
                "policy": endpoint.spec()["policy"],
                "reasons_sha256": endpoint.reasons.sha256 if endpoint.reasons else None})
        return Applied(version=version, created=True)

    def versions(self, name: str | None = None) -> list[EndpointVersion]:
        with self._metadata.reading() as tx:
            every = tx.endpoints.all()
        return [v for v in every if name is None or v.name == name]

    def latest(self) -> list[EndpointVersion]:
        """The newest version of every endpoint."""
        newest: dict[str, EndpointVersion] = {}
        for version in self.versions():
            newest[version.name] = version
        return list(newest.values())

    def version(self, ref: str) -> EndpointVersion:
        """`name` (the latest) or `name@N`."""
        name, _, number = ref.partition("@")
        check_endpoint_name(name)
        with self._metadata.reading() as tx:
            if not number:
                return tx.endpoints.latest(name)
            if not number.isdigit():
                raise InvalidInputError("endpoint", f"{ref!r}: write NAME or NAME@VERSION",
                                        rule="endpoint.ref")
            return tx.endpoints.get(name, int(number))


def champion_of(registry: Registry, model: str) -> ModelVersion:
    """The model's champion, which an endpoint may serve only while it is in prod."""
    try:
        version = registry.get(f"{model}@{CHAMPION}")
    except NotFoundError:
        raise ConflictError(f"{model} has no champion: point the alias at a version in prod "
                            "before serving it.", rule="endpoint.champion_in_prod",
                            field="model") from None
    if version.stage != Stage.PROD:
        raise ConflictError(f"{version.ref}, the champion of {model}, is {version.stage}; "
                            "only a version in prod is served.",
                            rule="endpoint.champion_in_prod", field="model")
    return version


def check_fits(endpoint: Endpoint, version: ModelVersion, domain: str) -> None:
    """The endpoint's policy, reasons, keys and defaults fit the version it serves."""
    fitting = profile(domain).policy_kinds
    if endpoint.policy_kind not in fitting:
        raise InvalidInputError("policy.kind", f"a {domain} model decides with "
                                f"{' or '.join(fitting)}, not {endpoint.policy_kind}",
                                rule="policy.kind_fits_domain")
    clash = sorted(set(endpoint.entity) & set(version.inputs))
    if clash:
        raise InvalidInputError("entity", f"{', '.join(clash)} is an input of {version.ref}; "
                                "entity keys identify the customer and are never scored",
                                rule="endpoint.entity_not_input")
    scored = sorted(set(endpoint.monitoring_attributes) & set(version.inputs))
    if scored:
        raise InvalidInputError("monitoring.attributes", f"{', '.join(scored)} is an input of "
                                f"{version.ref}; a monitoring attribute is recorded, never "
                                "scored", rule="endpoint.attribute_not_input")
    if endpoint.reasons is not None:
        load_catalogue(endpoint.reasons.catalogue, inputs=version.inputs)
    stored = set(feature_inputs(version))
    unknown = sorted(set(endpoint.defaults) - stored)
    if unknown:
        raise InvalidInputError("defaults", f"{', '.join(unknown)} are not features "
                                f"{version.ref} reads from the online store; defaults stand "
                                "in for those only", rule="endpoint.defaults")
