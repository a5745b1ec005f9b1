"""The decision log in SQL: append-only, one row per decision."""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from bankml.core.decisions import DecisionRecord, Outcome
from bankml.core.errors import DuplicateError, NotFoundError
from bankml.stores.sql.tables import decisions


class SqlDecisionLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, record: DecisionRecord) -> None:
        try:
            self._connection.execute(insert(decisions).values(
                decision_id=record.decision_id, decided_at=record.decided_at,
                customer_pseudo_id=record.customer_pseudo_id,
                model_name=record.model_name, model_version=record.model_version,
                artifact_sha256=record.artifact_sha256, inputs_json=record.inputs_json,
                score=record.score, outcome=str(record.outcome),
                policy_json=record.policy_json,
            ))
        except IntegrityError as exc:
            raise DuplicateError(f"Decision {record.decision_id} is logged already.") from exc

    def get(self, decision_id: str) -> DecisionRecord:
        row = self._connection.execute(
            select(decisions).where(decisions.c.decision_id == decision_id)).one_or_none()
        if row is None:
            raise NotFoundError("decision", decision_id)
        values = row._asdict()
        values["outcome"] = Outcome(values["outcome"])
        return DecisionRecord(**values)

    def count(self) -> int:
        return int(self._connection.execute(
            select(func.count()).select_from(decisions)).scalar_one())
