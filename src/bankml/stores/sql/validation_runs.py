"""Validation runs in SQL: one row per run; the full result lives in the artifact store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from bankml.core.errors import DuplicateError, NotFoundError
from bankml.core.validation import Opinion, ValidationBaseline, ValidationRun
from bankml.stores.sql.tables import validation_baselines, validation_runs


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

    def baseline(self, model: str) -> ValidationBaseline | None:
        row = self._connection.execute(select(validation_baselines).where(
            validation_baselines.c.model == model)).first()
        return None if row is None else ValidationBaseline(
            model=row.model, version=row.version, run_id=row.run_id, validator=row.validator,
            request_id=row.request_id, recorded_at=row.recorded_at)

    def set_baseline(self, baseline: ValidationBaseline) -> None:
        try:  # the primary key holds "once per model", whatever two writers do at once
            self._connection.execute(insert(validation_baselines).values(
                model=baseline.model, version=baseline.version, run_id=baseline.run_id,
                validator=baseline.validator, request_id=baseline.request_id,
                recorded_at=baseline.recorded_at))
        except IntegrityError as exc:
            raise DuplicateError(f"{baseline.model} has its initial validation already; "
                                 "it is set once.") from exc


def _run(row: Any) -> ValidationRun:
    return ValidationRun(
        run_id=row.run_id, model=row.model, version=row.version, created_at=row.created_at,
        created_by=row.created_by, policy_id=row.policy_id, policy_version=row.policy_version,
        opinion=Opinion(row.opinion), fairness_passed=bool(row.fairness_passed),
        greens=row.greens, ambers=row.ambers, reds=row.reds,
        result_sha256=row.result_sha256, against=row.against, self_test=bool(row.self_test))
