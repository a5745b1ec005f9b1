"""The decision log in SQL: append-only records, written in batches a Merkle root vouches for."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    String,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.exc import IntegrityError

from bankml.core.decisions import (
    DIGEST_FIELDS,
    RECORD_SCHEMA,
    DecisionBatch,
    DecisionOverride,
    DecisionRecord,
    Outcome,
)
from bankml.core.errors import DuplicateError, NotFoundError
from bankml.core.ports import LoggedRow, MonitoredRow
from bankml.stores.sql.driver import SqliteStatement, on_sqlite
from bankml.stores.sql.tables import (
    decision_batches,
    decision_overrides,
    decisions,
    labels,
)

STREAM_BATCH = 2_000
MONITOR_CHUNK = 20_000  # rows per chunk monitoring accumulates
# Built once: constructing a statement per commit costs more than executing it, and the
# log commits on every decision's path.
INSERT_BATCH = insert(decision_batches).returning(decision_batches.c.batch_id)
INSERT_RECORDS = insert(decisions)
# Each decision's latest label and override, looked up by its id on the indexes
# (decision_id, version) and (decision_id) while the row is read: joining them to the
# window afterwards read every decision row of the window again, once per table.
LATEST_LABEL = (select(labels.c.outcome).where(labels.c.decision_id == decisions.c.decision_id)
                .order_by(labels.c.version.desc()).limit(1).scalar_subquery())
LATEST_OVERRIDE = (select(decision_overrides.c.outcome)
                   .where(decision_overrides.c.decision_id == decisions.c.decision_id)
                   .order_by(decision_overrides.c.override_id.desc()).limit(1)
                   .scalar_subquery())
# A shadow record's pair: the one champion decision of the same call (the shadow work is
# made from it: same endpoint, customer and received_at), found on the customer's index;
# none, or more than one (the customer twice in one call), leaves it unpaired (NULL).
_CHAMPION = decisions.alias("champion")
PAIRED_ID = case(
    (decisions.c.route == "shadow",
     select(case((func.count() == 1, func.min(_CHAMPION.c.decision_id))))
     .where(_CHAMPION.c.customer_pseudo_id == decisions.c.customer_pseudo_id,
            _CHAMPION.c.endpoint == decisions.c.endpoint,
            _CHAMPION.c.received_at == decisions.c.received_at,
            _CHAMPION.c.route == "champion")
     .scalar_subquery()))


def _monitored(*, requests: bool) -> Select[Any]:
    request = decisions.c.request_json if requests else literal("{}", String)
    return (select(decisions.c.decision_id, decisions.c.decided_at, decisions.c.model_name,
                   decisions.c.model_version, decisions.c.route, decisions.c.score,
                   decisions.c.outcome, decisions.c.inputs_json, request, LATEST_LABEL,
                   LATEST_OVERRIDE, PAIRED_ID)
            .where(decisions.c.endpoint == bindparam("endpoint"),
                   decisions.c.decided_at >= bindparam("since"),
                   decisions.c.decided_at < bindparam("until"))
            .order_by(decisions.c.decided_at))


# By whether request_json is read. SQLite runs the same statement on the driver's
# cursor (see _monitored_sqlite): one query for both backends.
MONITORED = {requests: _monitored(requests=requests) for requests in (True, False)}
MONITORED_SQLITE = {requests: SqliteStatement(query) for requests, query in MONITORED.items()}
# Every schema-2 record in batch order, its fields in its digest's order (verification).
IN_BATCH_ORDER = (select(decisions.c.batch_id, decisions.c.batch_index,
                         *(decisions.c[name] for name in DIGEST_FIELDS))
                  .where(decisions.c.schema_version >= RECORD_SCHEMA)
                  .order_by(decisions.c.batch_id, decisions.c.batch_index))
IN_BATCH_ORDER_SQLITE = SqliteStatement(IN_BATCH_ORDER)
RECORD_COLUMNS = ("decision_id", "decided_at", "customer_pseudo_id", "model_name",
                  "model_version", "artifact_sha256", "inputs_json", "score", "outcome",
                  "policy_json", "schema_version", "endpoint", "endpoint_version", "route",
                  "received_at", "request_json", "features_json", "reasons_json",
                  "requested_by", "code_version", "latency_us")
BATCH_COLUMNS = ("committed_at", "records", "merkle_root", "first_decided_at",
                 "last_decided_at", "leaves")
# The log's commit on SQLite: the same statements on the driver's cursor.
INSERT_BATCH_SQLITE = SqliteStatement(INSERT_BATCH.values(
    {name: bindparam(name) for name in BATCH_COLUMNS}))
INSERT_RECORDS_SQLITE = SqliteStatement(INSERT_RECORDS.values(
    {name: bindparam(name) for name in (*RECORD_COLUMNS, "batch_id", "batch_index",
                                         "idempotency_key")}))


class SqlDecisionLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, record: DecisionRecord) -> None:
        """One record of schema 1, vouched for by its own audit event."""
        try:
            self._connection.execute(insert(decisions).values(**_row(record)))
        except IntegrityError as exc:
            raise DuplicateError(f"Decision {record.decision_id} is logged already.") from exc

    def add_batch(self, batch: DecisionBatch, records: Sequence[DecisionRecord],
                  idempotency_keys: Sequence[str | None]) -> int:
        """Store a batch and its records in order; returns the batch's number."""
        values = {"committed_at": batch.committed_at, "records": batch.records,
                  "merkle_root": batch.merkle_root, "first_decided_at": batch.first_decided_at,
                  "last_decided_at": batch.last_decided_at, "leaves": ",".join(batch.leaves)}
        sqlite = on_sqlite(self._connection)  # the decision's own path: the driver's cursor
        batch_id = int(INSERT_BATCH_SQLITE.one(self._connection, values)[0] if sqlite
                       else self._connection.execute(INSERT_BATCH, values).scalar_one())
        rows = [{**_row(record), "batch_id": batch_id, "batch_index": index,
                 "idempotency_key": key}
                for index, (record, key) in enumerate(zip(records, idempotency_keys,
                                                          strict=True))]
        if sqlite:
            INSERT_RECORDS_SQLITE.execute_many(self._connection, rows)
        else:
            self._connection.execute(INSERT_RECORDS, rows)
        return batch_id

    def get(self, decision_id: str) -> DecisionRecord:
        row = self._connection.execute(
            select(decisions).where(decisions.c.decision_id == decision_id)).one_or_none()
        if row is None:
            raise NotFoundError("decision", decision_id, field="decision_id")
        return _record(row._asdict())

    def by_idempotency_key(self, endpoint: str, key: str) -> DecisionRecord | None:
        row = self._connection.execute(select(decisions).where(
            decisions.c.endpoint == endpoint, decisions.c.idempotency_key == key)).one_or_none()
        return None if row is None else _record(row._asdict())

    def count(self) -> int:
        return int(self._connection.execute(
            select(func.count()).select_from(decisions)).scalar_one())

    def records(self, *, endpoint: str | None = None, since: str | None = None,
                until: str | None = None) -> Iterator[DecisionRecord]:
        """Records in the order they were decided, streamed."""
        query = select(decisions).order_by(decisions.c.decided_at, decisions.c.decision_id)
        if endpoint is not None:
            query = query.where(decisions.c.endpoint == endpoint)
        if since is not None:
            query = query.where(decisions.c.decided_at >= since)
        if until is not None:
            query = query.where(decisions.c.decided_at < until)
        result = self._connection.execution_options(yield_per=STREAM_BATCH).execute(query)
        try:
            for row in result:
                yield _record(row._asdict())
        finally:
            result.close()

    def monitored(self, endpoint: str, since: str, until: str, *, requests: bool = True
                  ) -> Iterator[list[MonitoredRow]]:
        """Only the columns monitoring reads, as plain tuples in chunks: no record, no
        mapping per row (the weekly run reads millions). Without `requests`, each request
        reads as "{}": the largest column is left in the database. Each row ends with its
        latest label's outcome and latest override's outcome, or None, and a shadow
        record's paired champion decision (None on other routes, or unpaired)."""
        window = {"endpoint": endpoint, "since": since, "until": until}
        if on_sqlite(self._connection):
            yield from self._monitored_sqlite(window, requests=requests)
            return
        result = self._connection.execution_options(yield_per=MONITOR_CHUNK).execute(
            MONITORED[requests], window)
        try:
            for chunk in result.partitions(MONITOR_CHUNK):
                yield [tuple(row) for row in chunk]
        finally:
            result.close()

    def _monitored_sqlite(self, window: dict[str, str], *, requests: bool
                          ) -> Iterator[list[MonitoredRow]]:
        """The same rows straight from the driver's cursor, in this transaction: SQLite
        streams them as tuples already, and building a Row for each cost a third of the
        read (PostgreSQL needs SQLAlchemy's server-side cursor to stream at all)."""
        yield from MONITORED_SQLITE[requests].rows(self._connection, window, MONITOR_CHUNK)

    def policy_of(self, decision_id: str) -> str:
        found = self._connection.execute(select(decisions.c.policy_json).where(
            decisions.c.decision_id == decision_id)).scalar_one_or_none()
        if found is None:
            raise NotFoundError("decision", decision_id, field="decision_id")
        return str(found)

    def brief(self, decision_ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
        """(endpoint, decided_at) of each known id."""
        ids = list(dict.fromkeys(decision_ids))
        found: dict[str, tuple[str | None, str]] = {}
        for start in range(0, len(ids), 500):
            rows = self._connection.execute(select(
                decisions.c.decision_id, decisions.c.endpoint, decisions.c.decided_at).where(
                decisions.c.decision_id.in_(ids[start:start + 500])))
            found |= {row.decision_id: (row.endpoint, row.decided_at) for row in rows}
        return found

    def latest_of_customer(self, endpoint: str, customer_pseudo_id: str,
                           at_or_before: str) -> tuple[str, str] | None:
        """(decision id, decided_at) of the customer's last decision on `endpoint` made
        at or before the moment given."""
        row = self._connection.execute(
            select(decisions.c.decision_id, decisions.c.decided_at).where(
                decisions.c.endpoint == endpoint,
                decisions.c.customer_pseudo_id == customer_pseudo_id,
                decisions.c.route != "shadow",  # the customer never saw a shadow's answer
                decisions.c.decided_at <= at_or_before)
            .order_by(decisions.c.decided_at.desc()).limit(1)).first()
        return None if row is None else (row.decision_id, row.decided_at)

    def of_customer(self, customer_pseudo_id: str, *, limit: int) -> list[DecisionRecord]:
        rows = self._connection.execute(
            select(decisions).where(decisions.c.customer_pseudo_id == customer_pseudo_id,
                                    decisions.c.route != "shadow")
            .order_by(decisions.c.decided_at.desc(), decisions.c.decision_id.desc())
            .limit(limit))
        return [_record(row._asdict()) for row in rows]

    def batches(self) -> dict[int, DecisionBatch]:
        """Every committed batch by its number."""
        result = self._connection.execute(select(decision_batches))
        names = tuple(result.keys())  # once: Row._asdict looks them up for every row
        return {row.batch_id: _batch(dict(zip(names, row, strict=True))) for row in result}

    def batched(self) -> Iterator[tuple[int | None, int | None, DecisionRecord]]:
        """(batch number, place in batch, record) of every schema-2 record, in batch order
        (records without a batch, which no proof vouches for, first), streamed."""
        # Positional rows, not mappings: verification reads every record of the log here.
        query = (select(decisions.c.batch_id, decisions.c.batch_index,
                        *(decisions.c[name] for name in RECORD_COLUMNS))
                 .where(decisions.c.schema_version >= RECORD_SCHEMA)
                 .order_by(decisions.c.batch_id, decisions.c.batch_index))
        result = self._connection.execution_options(yield_per=STREAM_BATCH).execute(query)
        try:
            for rows in result.partitions():  # a list at a time: no call per row
                for batch_id, batch_index, *values in rows:
                    yield batch_id, batch_index, _record(dict(zip(RECORD_COLUMNS, values,
                                                                  strict=True)))
        finally:
            result.close()

    def rows_in_batch_order(self, *, chunk: int = STREAM_BATCH) -> Iterator[list[LoggedRow]]:
        """(batch number, place in batch, then the record's fields in `DIGEST_FIELDS`
        order) of every schema-2 record, in batch order, as plain tuples in lists of up to
        `chunk`: no record and no mapping is built (verification reads every row)."""
        if on_sqlite(self._connection):  # the driver's tuples, as monitored
            yield from IN_BATCH_ORDER_SQLITE.rows(self._connection, {}, chunk)
            return
        result = self._connection.execution_options(yield_per=chunk).execute(IN_BATCH_ORDER)
        try:
            for partition in result.partitions(chunk):
                yield [tuple(row) for row in partition]
        finally:
            result.close()

    def batch_of(self, decision_id: str) -> tuple[int | None, DecisionBatch | None,
                                                  list[DecisionRecord]]:
        record = self._connection.execute(select(decisions).where(
            decisions.c.decision_id == decision_id)).one_or_none()
        if record is None:
            raise NotFoundError("decision", decision_id, field="decision_id")
        batch_id = record.batch_id
        if batch_id is None:
            return None, None, [_record(record._asdict())]
        stored = self._connection.execute(select(decision_batches).where(
            decision_batches.c.batch_id == batch_id)).one_or_none()
        rows = self._connection.execute(select(decisions).where(
            decisions.c.batch_id == batch_id).order_by(decisions.c.batch_index))
        return (batch_id, None if stored is None else _batch(stored._asdict()),
                [_record(row._asdict()) for row in rows])

    def add_override(self, override: DecisionOverride) -> int:
        result = self._connection.execute(insert(decision_overrides).values(
            decision_id=override.decision_id, outcome=str(override.outcome),
            reason_code=override.reason_code, comment=override.comment,
            overridden_by=override.overridden_by, overridden_at=override.overridden_at))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def overrides_recorded(self, endpoint: str, since: str, until: str
                           ) -> list[DecisionOverride]:
        rows = self._connection.execute(
            select(decision_overrides)
            .join(decisions, decisions.c.decision_id == decision_overrides.c.decision_id)
            .where(decisions.c.endpoint == endpoint,
                   decision_overrides.c.overridden_at >= since,
                   decision_overrides.c.overridden_at < until)
            .order_by(decision_overrides.c.override_id))
        return [_override(r) for r in rows]

    def overrides(self, decision_id: str) -> list[DecisionOverride]:
        rows = self._connection.execute(select(decision_overrides).where(
            decision_overrides.c.decision_id == decision_id)
            .order_by(decision_overrides.c.override_id))
        return [_override(r) for r in rows]


def _override(r: Any) -> DecisionOverride:
    return DecisionOverride(override_id=r.override_id, decision_id=r.decision_id,
                            outcome=Outcome(r.outcome), reason_code=r.reason_code,
                            comment=r.comment, overridden_by=r.overridden_by,
                            overridden_at=r.overridden_at)


def _row(record: DecisionRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in RECORD_COLUMNS}
    values["outcome"] = str(record.outcome)
    return values


def _record(values: dict[str, Any]) -> DecisionRecord:
    fields = {name: values[name] for name in RECORD_COLUMNS}
    outcome = fields["outcome"]
    # a dict lookup: the enum's own, Outcome(text), is several times slower per row
    fields["outcome"] = _OUTCOMES[outcome] if outcome in _OUTCOMES else Outcome(outcome)
    return DecisionRecord(**fields)


_OUTCOMES = {str(outcome): outcome for outcome in Outcome}


def _batch(values: dict[str, Any]) -> DecisionBatch:
    return DecisionBatch(batch_id=values["batch_id"], committed_at=values["committed_at"],
                         records=values["records"], merkle_root=values["merkle_root"],
                         first_decided_at=values["first_decided_at"],
                         last_decided_at=values["last_decided_at"],
                         leaves=tuple(values["leaves"].split(",")) if values["leaves"] else ())
