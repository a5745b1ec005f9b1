"""Rollouts and leases in SQL: one active rollout per endpoint by a partial unique index,
every change of state by compare-and-set on the row's revision."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.canonical import canonical_json
from bankml.core.errors import ConflictError, NotFoundError
from bankml.core.rollouts import ACTIVE, Lease, Plan, Rollout, RolloutStatus
from bankml.stores.sql.tables import leases, rollouts

ACTIVE_NAMES = sorted(str(status) for status in ACTIVE)


class SqlRollouts:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, rollout: Rollout) -> Rollout:
        row = _row(rollout)
        row.pop("rollout_id")
        try:
            with self._connection.begin_nested():  # the refusal leaves the transaction usable
                rollout_id = self._connection.execute(
                    insert(rollouts).values(**row).returning(rollouts.c.rollout_id)
                ).scalar_one()
        except IntegrityError as exc:
            raise ConflictError(f"Endpoint {rollout.endpoint} has a rollout running already; "
                                "finish it (promote or roll back) before deploying another.",
                                rule="rollout.one_active", field="endpoint") from exc
        return self.get(int(rollout_id))

    def get(self, rollout_id: int) -> Rollout:
        row = self._connection.execute(
            select(rollouts).where(rollouts.c.rollout_id == rollout_id)).one_or_none()
        if row is None:
            raise NotFoundError("rollout", str(rollout_id), field="rollout")
        return _rollout(row._asdict())

    def active(self, endpoint: str) -> Rollout | None:
        row = self._connection.execute(select(rollouts).where(
            rollouts.c.endpoint == endpoint, rollouts.c.status.in_(ACTIVE_NAMES))).one_or_none()
        return None if row is None else _rollout(row._asdict())

    def all_active(self) -> list[Rollout]:
        rows = self._connection.execute(select(rollouts).where(
            rollouts.c.status.in_(ACTIVE_NAMES)).order_by(rollouts.c.rollout_id))
        return [_rollout(row._asdict()) for row in rows]

    def of(self, endpoint: str) -> list[Rollout]:
        rows = self._connection.execute(select(rollouts).where(
            rollouts.c.endpoint == endpoint).order_by(rollouts.c.rollout_id))
        return [_rollout(row._asdict()) for row in rows]

    def save(self, rollout: Rollout, *, was: Rollout) -> Rollout:
        """Write `rollout` if the row is still at `was`'s revision; the revision moves on."""
        row = _row(rollout) | {"revision": was.revision + 1}
        row.pop("rollout_id")
        result = self._connection.execute(update(rollouts).where(
            rollouts.c.rollout_id == was.rollout_id,
            rollouts.c.revision == was.revision).values(**row))
        if result.rowcount != 1:
            raise ConflictError(f"The rollout on {was.endpoint} was changed meanwhile (by an "
                                "operator or the controller); nothing was changed, so look "
                                "again and retry.", rule="store.changed_meanwhile",
                                field="rollout")
        return self.get(was.rollout_id)


class SqlLeases:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, name: str) -> Lease | None:
        row = self._connection.execute(select(leases).where(leases.c.name == name)).one_or_none()
        return None if row is None else Lease(name=row.name, holder=row.holder,
                                              expires_at=row.expires_at, revision=row.revision)

    def take(self, name: str, holder: str, *, now: str, until: str) -> bool:
        """Hold `name` until `until` if it is free, expired or held by `holder` already;
        False if another holds it. Two takers at once: one row changes, one insert wins."""
        known = self.get(name)
        if known is None:
            try:
                with self._connection.begin_nested():
                    self._connection.execute(insert(leases).values(
                        name=name, holder=holder, expires_at=until, revision=1))
            except IntegrityError:
                return False
            return True
        if known.holder != holder and known.expires_at > now:
            return False
        result = self._connection.execute(update(leases).where(
            leases.c.name == name, leases.c.revision == known.revision).values(
            holder=holder, expires_at=until, revision=known.revision + 1))
        return bool(result.rowcount == 1)

    def release(self, name: str, holder: str) -> None:
        self._connection.execute(update(leases).where(
            leases.c.name == name, leases.c.holder == holder).values(
            expires_at="", revision=leases.c.revision + 1))


def _row(rollout: Rollout) -> dict[str, Any]:
    return {"rollout_id": rollout.rollout_id, "endpoint": rollout.endpoint,
            "model": rollout.model, "champion": rollout.champion,
            "challenger": rollout.challenger,
            "plan_json": canonical_json(rollout.plan.describe()), "salt": rollout.salt,
            "status": str(rollout.status), "step": rollout.step,
            "step_started_at": rollout.step_started_at, "created_at": rollout.created_at,
            "created_by": rollout.created_by, "revision": rollout.revision,
            "ended_at": rollout.ended_at, "outcome_json": canonical_json(rollout.outcome),
            "comparison_json": canonical_json(rollout.comparison)}


def _rollout(row: dict[str, Any]) -> Rollout:
    return Rollout(rollout_id=row["rollout_id"], endpoint=row["endpoint"], model=row["model"],
                   champion=row["champion"], challenger=row["challenger"],
                   plan=Plan.from_data(json.loads(row["plan_json"])), salt=row["salt"],
                   status=RolloutStatus(row["status"]), step=row["step"],
                   step_started_at=row["step_started_at"], created_at=row["created_at"],
                   created_by=row["created_by"], revision=row["revision"],
                   ended_at=row["ended_at"], outcome=json.loads(row["outcome_json"]),
                   comparison=json.loads(row["comparison_json"]))
