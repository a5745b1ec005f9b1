"""The state beside the chain, re-derived from the events that made it (`verify --deep`).

The chain proves its events; the rows the platform acts on (who holds which role, which
artifact a version is, its stage, where an alias points, a feature view's definition) are
ordinary rows that anyone with the database's rights can change without touching the
chain. Each derivation folds the events of one kind of state and names every stored row
that says something else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bankml.core.audit import AuditEvent, Disagreement
from bankml.core.decisions import DecisionRecord
from bankml.core.features import definition_digest
from bankml.core.ports import Transaction
from bankml.core.proofs import LOGGED, batch_of_subject, batch_problems


class Derivation(Protocol):
    """One kind of state: what its events say, then what its rows say."""

    def observe(self, event: AuditEvent) -> None:
        """Fold one event, in sequence order."""

    def compare(self, tx: Transaction) -> tuple[int, list[Disagreement]]:
        """The number of rows checked and every row that disagrees with the events."""


def derivations() -> list[Derivation]:
    """Every state the deep verification re-derives."""
    return [UserRoles(), ModelVersionState(), FeatureViewDefinitions(), DecisionRecords()]


def _listed(values: Any) -> str:
    return ", ".join(sorted(str(value) for value in values)) or "none"


@dataclass
class _User:
    roles: frozenset[str]
    active: bool = True
    events: list[int] = field(default_factory=list)


class UserRoles:
    """users.roles_json and users.active from user.created, user.granted, user.revoked and
    user.deactivated (each event carries the roles held after it)."""

    def __init__(self) -> None:
        self._users: dict[str, _User] = {}

    def observe(self, event: AuditEvent) -> None:
        if not event.subject.startswith("user:"):
            return
        name, payload = event.subject.removeprefix("user:"), event.payload
        if event.action == "user.created":
            self._users[name] = _User(roles=frozenset(payload.get("roles", [])))
        user = self._users.get(name)
        if user is None:
            return
        if event.action in ("user.granted", "user.revoked"):
            user.roles = frozenset(payload["roles"])
        elif event.action == "user.deactivated":
            user.active = False
        if event.action.startswith("user."):
            user.events.append(event.sequence)

    def compare(self, tx: Transaction) -> tuple[int, list[Disagreement]]:
        stored = tx.users.all()
        found = []
        for user in stored:
            derived = self._users.get(user.name)
            if derived is None:
                found.append(Disagreement(
                    table="users", key=user.name, column="username", stored=user.name,
                    derived="none", detail="no user.created event records this user"))
                continue
            events = _events(derived.events)
            roles = frozenset(str(role) for role in user.roles)
            if roles != derived.roles:
                found.append(Disagreement(
                    table="users", key=user.name, column="roles_json", stored=_listed(roles),
                    derived=_listed(derived.roles), detail=_made_by(events)))
            if user.active != derived.active:
                found.append(Disagreement(
                    table="users", key=user.name, column="active", stored=str(user.active),
                    derived=str(derived.active), detail=_made_by(events)))
        return len(stored), found


@dataclass
class _Version:
    artifact_sha256: str
    flavour: str
    stage: str
    registered: int
    moved: list[int] = field(default_factory=list)


class ModelVersionState:
    """model_versions (artifact, flavour, stage) from model.registered and
    model.transitioned; model_aliases from model.alias_set, model.alias_removed and the
    aliases a move to archived removed."""

    def __init__(self) -> None:
        self._versions: dict[str, _Version] = {}
        self._aliases: dict[str, dict[str, int]] = {}

    def observe(self, event: AuditEvent) -> None:
        if not event.subject.startswith("model:"):
            return
        ref, payload = event.subject.removeprefix("model:"), event.payload
        name = ref.partition("@")[0]
        if event.action == "model.registered":
            self._versions[ref] = _Version(
                artifact_sha256=payload["artifact_sha256"], flavour=payload["flavour"],
                stage=payload.get("stage", "dev"), registered=event.sequence)
        elif event.action == "model.transitioned" and ref in self._versions:
            self._versions[ref].stage = payload["to"]
            self._versions[ref].moved.append(event.sequence)
            for alias in payload.get("aliases_removed", []):
                self._aliases.get(name, {}).pop(alias, None)
        elif event.action == "model.alias_set":
            self._aliases.setdefault(name, {})[payload["alias"]] = int(payload["version"])
        elif event.action == "model.alias_removed":
            self._aliases.get(name, {}).pop(payload["alias"], None)

    def compare(self, tx: Transaction) -> tuple[int, list[Disagreement]]:
        stored = tx.models.all()
        found = []
        for version in stored:
            derived = self._versions.get(version.ref)
            if derived is None:
                found.append(Disagreement(
                    table="model_versions", key=version.ref, column="number",
                    stored=str(version.number), derived="none",
                    detail="no model.registered event records this version"))
                continue
            registered = f"model.registered #{derived.registered}"
            for column, value, expected, source in (
                    ("artifact_sha256", version.artifact_sha256, derived.artifact_sha256,
                     registered),
                    ("flavour", version.flavour, derived.flavour, registered),
                    ("stage", str(version.stage), derived.stage,
                     _events([derived.registered, *derived.moved]))):
                if value != expected:
                    found.append(Disagreement(
                        table="model_versions", key=version.ref, column=column, stored=value,
                        derived=expected, detail=_made_by(source)))
        names = sorted({version.name for version in stored} | set(self._aliases))
        rows = len(stored)
        for name in names:
            aliases, derived_aliases = tx.models.aliases(name), self._aliases.get(name, {})
            rows += len(aliases)
            for alias in sorted(set(aliases) | set(derived_aliases)):
                have, want = aliases.get(alias), derived_aliases.get(alias)
                if have != want:
                    found.append(Disagreement(
                        table="model_aliases", key=f"{name}@{alias}", column="number",
                        stored=str(have) if have is not None else "none",
                        derived=str(want) if want is not None else "none",
                        detail=_made_by("its alias and transition events")))
        return rows, found


class FeatureViewDefinitions:
    """feature_view_versions (digest and definition, on-demand code included) from the
    digest each feature_view.applied event recorded when it created the version."""

    def __init__(self) -> None:
        self._digests: dict[str, tuple[str, int]] = {}

    def observe(self, event: AuditEvent) -> None:
        if event.action == "feature_view.applied" and event.payload.get("new_version"):
            ref = event.subject.removeprefix("feature_view:")
            self._digests.setdefault(ref, (event.payload["digest"], event.sequence))

    def compare(self, tx: Transaction) -> tuple[int, list[Disagreement]]:
        stored = tx.features.all()
        found = []
        for version in stored:
            recorded = self._digests.get(version.ref)
            if recorded is None:
                found.append(Disagreement(
                    table="feature_view_versions", key=version.ref, column="digest",
                    stored=version.digest, derived="none",
                    detail="no feature_view.applied event created this version"))
                continue
            digest, sequence = recorded
            for column, value in (("digest", version.digest),
                                  ("spec_json", definition_digest(version.spec))):
                if value != digest:
                    found.append(Disagreement(
                        table="feature_view_versions", key=version.ref, column=column,
                        stored=value, derived=digest,
                        detail=f"the definition's sha256 differs from the one "
                               f"feature_view.applied #{sequence} recorded"))
        return len(stored), found



class DecisionRecords:
    """decisions and decision_batches from the Merkle root each decisions.logged event
    recorded for its batch: a record edited, removed, added or left outside any batch is
    named (`bankml decisions verify` also scores each decision again)."""

    def __init__(self) -> None:
        self._roots: dict[int, dict[str, Any]] = {}

    def observe(self, event: AuditEvent) -> None:
        if event.action == LOGGED:
            self._roots[batch_of_subject(event.subject)] = event.payload

    def compare(self, tx: Transaction) -> tuple[int, list[Disagreement]]:
        members: dict[int | None, list[DecisionRecord]] = {}
        for batch_id, _index, record in tx.decisions.batched():  # in batch order
            members.setdefault(batch_id, []).append(record)
        stored = tx.decisions.batches()
        found = []
        for batch_id in sorted(set(members) | set(self._roots) | set(stored),
                               key=lambda b: -1 if b is None else b):
            for problem in batch_problems(
                    batch_id, members.get(batch_id, []),
                    None if batch_id is None else self._roots.get(batch_id),
                    None if batch_id is None else stored.get(batch_id)):
                found.append(Disagreement(
                    table="decisions", key=problem.decision_id or f"batch {batch_id}",
                    column="record_sha256",
                    stored="a record" if problem.decision_id else f"batch {batch_id}",
                    derived="none" if batch_id is None else f"decisions.logged root of batch "
                                                             f"{batch_id}",
                    detail=problem.problem))
        return sum(len(records) for records in members.values()), found

def _made_by(events: str) -> str:
    return f"the events that made it ({events}) give"


def _events(sequences: Sequence[int]) -> str:
    numbered = ", ".join(f"#{sequence}" for sequence in sequences)
    return f"events {numbered}" if len(sequences) > 1 else f"event {numbered}"
