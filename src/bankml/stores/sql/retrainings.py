"""Retrainings in SQL: one per alert by a unique key, each step by compare-and-set."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.canonical import canonical_json
from bankml.core.errors import ConflictError, NotFoundError
from bankml.core.retraining import Retraining, RetrainingStatus, Trigger
from bankml.stores.sql.tables import retrainings

_FIELDS = ("alert_id", "endpoint", "model", "metric", "started_at", "started_by", "champion",
           "version", "run_id", "request_id", "rollout_id", "updated_at", "revision")


class SqlRetrainings:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(self, retraining: Retraining) -> Retraining:
        """Store the alert's retraining; ConflictError `retraining.one_per_alert` if the
        alert has one, whoever claimed it a moment ago."""
        row = _row(retraining)
        try:
            with self._connection.begin_nested():  # the refusal leaves the transaction usable
                retraining_id = self._connection.execute(
                    insert(retrainings).values(**row).returning(retrainings.c.retraining_id)
                ).scalar_one()
        except IntegrityError as exc:
            raise ConflictError(f"Alert #{retraining.alert_id} has started a retraining "
                                "already; one red alert starts at most one.",
                                rule="retraining.one_per_alert", field="alert") from exc
        return self.get(int(retraining_id))

    def get(self, retraining_id: int) -> Retraining:
        row = self._connection.execute(select(retrainings).where(
            retrainings.c.retraining_id == retraining_id)).one_or_none()
        if row is None:
            raise NotFoundError("retraining", str(retraining_id), field="retraining")
        return _retraining(row._asdict())

    def of_alert(self, alert_id: int) -> Retraining | None:
        row = self._connection.execute(select(retrainings).where(
            retrainings.c.alert_id == alert_id)).one_or_none()
        return None if row is None else _retraining(row._asdict())

    def all(self, endpoint: str | None = None) -> list[Retraining]:
        query = select(retrainings).order_by(retrainings.c.retraining_id)
        if endpoint is not None:
            query = query.where(retrainings.c.endpoint == endpoint)
        return [_retraining(row._asdict()) for row in self._connection.execute(query)]

    def save(self, retraining: Retraining, *, was: Retraining) -> Retraining:
        row = _row(retraining) | {"revision": was.revision + 1}
        result = self._connection.execute(update(retrainings).where(
            retrainings.c.retraining_id == was.retraining_id,
            retrainings.c.revision == was.revision).values(**row))
        if result.rowcount != 1:
            raise ConflictError(f"Retraining #{was.retraining_id} was changed meanwhile; "
                                "nothing was changed.", rule="store.changed_meanwhile",
                                field="retraining")
        return self.get(was.retraining_id)


def _row(retraining: Retraining) -> dict[str, Any]:
    return {**{name: getattr(retraining, name) for name in _FIELDS},
            "trigger": str(retraining.trigger), "status": str(retraining.status),
            "outcome_json": canonical_json(retraining.outcome)}


def _retraining(row: dict[str, Any]) -> Retraining:
    return Retraining(retraining_id=row["retraining_id"], trigger=Trigger(row["trigger"]),
                      status=RetrainingStatus(row["status"]),
                      outcome=json.loads(row["outcome_json"]),
                      **{name: row[name] for name in _FIELDS})
