"""Validation runs in SQL: one row per run; the full result lives in the artifact store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from bankml.core.errors import NotFoundError
from bankml.core.validation import Opinion, ValidationRun
from bankml.stores.sql.tables import validation_runs


class SqlValidationRuns:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, run: ValidationRun) -> None:
        self._connection.execute(insert(validation_runs).values(
            run_id=run.run_id, model=run.model, version=run.version,
            created_at=run.created_at, created_by=run.created_by, policy_id=run.policy_id,
            policy_version=run.policy_version, opinion=int(run.opinion),
            fairness_passed=int(run.fairness_passed), greens=run.greens, ambers=run.ambers,
            reds=run.reds, result_sha256=run.result_sha256, against=run.against,
            self_test=int(run.self_test)))

    def get(self, run_id: str) -> ValidationRun:
        row = self._connection.execute(
            select(validation_runs).where(validation_runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFoundError("validation run", run_id,
                                "`bankml report validation NAME@V` shows a version's latest run.")
        return _run(row)

    def of(self, model: str, version: int | None = None) -> list[ValidationRun]:
        query = select(validation_runs).where(validation_runs.c.model == model)
        if version is not None:
            query = query.where(validation_runs.c.version == version)
        rows = self._connection.execute(query.order_by(validation_runs.c.created_at,
                                                       validation_runs.c.run_id))
        return [_run(row) for row in rows]


def _run(row: Any) -> ValidationRun:
    return ValidationRun(
        run_id=row.run_id, model=row.model, version=row.version, created_at=row.created_at,
        created_by=row.created_by, policy_id=row.policy_id, policy_version=row.policy_version,
        opinion=Opinion(row.opinion), fairness_passed=bool(row.fairness_passed),
        greens=row.greens, ambers=row.ambers, reds=row.reds,
        result_sha256=row.result_sha256, against=row.against, self_test=bool(row.self_test))
