"""Delayed ground truth: outcomes joined to the decisions they judge, every version kept.

A label file (CSV or Parquet) or a list of rows names each decision by its id
(`decision_id`), or by the endpoint's entity keys and the time of the decision
(`decided_at`: the customer's last decision on the endpoint at or before it), and gives
the `outcome` (1: the domain's event) and when it was observed (`observed_at`, with its
time zone). Every row is checked before anything is stored; one bad row refuses the whole
file, naming each bad row, its field and the rule, and nothing lands.

The same outcome again is a duplicate (nothing stored); another outcome for a decision
is a correction, stored as its next version. Two ingests racing on one decision meet the
unique index on (decision, version): the loser is refused, tries again, and then sees the
winner's version (a duplicate, or a correction on top of it).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bankml.access import acting, viewing
from bankml.core.canonical import sha256_hex, utc_timestamp
from bankml.core.decisions import pseudonymise
from bankml.core.errors import ConflictError, InvalidInputError
from bankml.core.identity import Permission, Principal
from bankml.core.monitoring import IngestReport, Label, LabelChange, RowProblem
from bankml.core.ports import MetadataStore, Transaction

MAX_LISTED = 20  # problems named in one error; the count of the rest follows
RETRIES = 3  # an ingest that lost a race on a decision's next version tries again
REQUIRED = ("outcome", "observed_at")


class LabelFileError(InvalidInputError):
    """Rows of a label file that break a rule; none of the file was stored."""

    rule = "labels.file_valid"

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  {p.describe()}" for p in self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        InvalidInputError.__init__(self, self.problems[0].field,
                                   f"{source}: {len(self.problems)} bad rows, nothing was "
                                   f"stored:\n{listed}{tail}")


def read_label_file(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV or Parquet file, as text and numbers (nothing is parsed yet)."""
    import pandas as pd  # noqa: PLC0415 - pandas loads only when a file is read

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet") or not path.is_file():
        raise InvalidInputError("file", f"{path}: give an existing CSV or Parquet file",
                                rule="labels.file_readable")
    data = path.read_bytes()
    frame = (pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
             if suffix == ".csv" else pd.read_parquet(io.BytesIO(data)))
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(key): value for key, value in record.items()} for record in records]


class GroundTruth:
    """Ingests outcomes and answers which outcome each decision has, and had."""

    def __init__(self, metadata: MetadataStore, *, pseudonym_key: bytes,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._key, self._clock = metadata, pseudonym_key, clock

    def ingest_file(self, by: Principal, path: Path, *, endpoint: str) -> IngestReport:
        source = f"{path.name} sha256:{sha256_hex(path.read_bytes())[:16]}"
        return self.ingest(by, read_label_file(path), endpoint=endpoint, source=source)

    def ingest(self, by: Principal, rows: Sequence[Mapping[str, Any]], *, endpoint: str,
               source: str = "api") -> IngestReport:
        """Check every row, then store the new labels and corrections in one transaction."""
        for attempt in range(1, RETRIES + 1):
            try:
                return self._ingest(by, rows, endpoint=endpoint, source=source)
            except ConflictError as lost:
                if lost.rule != "labels.version_unique" or attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")

    def history(self, by: Principal, decision_id: str) -> list[Label]:
        """Every version of the decision's outcome, oldest first (personal data)."""
        with viewing(self._metadata, by, Permission.DECISION_READ,
                     f"decision:{decision_id}") as tx:
            return tx.labels.history(decision_id)

    def _ingest(self, by: Principal, rows: Sequence[Mapping[str, Any]], *, endpoint: str,
                source: str) -> IngestReport:
        with acting(self._metadata, by, Permission.LABELS_INGEST,
                    f"endpoint:{endpoint}") as tx:
            entity = tx.endpoints.latest(endpoint).endpoint.entity
            checked = self._checked(tx, rows, endpoint=endpoint, entity=entity,
                                    source=source)
            now = utc_timestamp(self._clock())
            latest = tx.labels.latest(decision_id for decision_id, _, _ in checked)
            new: list[Label] = []
            counts = dict.fromkeys(LabelChange, 0)
            for decision_id, outcome, observed_at in checked:
                known = latest.get(decision_id)
                label = Label(decision_id=decision_id, endpoint=endpoint,
                              version=1 if known is None else known.version + 1,
                              outcome=outcome, observed_at=observed_at, ingested_at=now,
                              ingested_by=by.name, source=source[:500])
                change = label.change_from(known)
                counts[change] += 1
                if change != LabelChange.DUPLICATE:
                    new.append(label)
            tx.labels.add(new)
            report = IngestReport(endpoint=endpoint, rows=len(rows),
                                  new=counts[LabelChange.NEW],
                                  duplicates=counts[LabelChange.DUPLICATE] + len(rows)
                                  - len(checked),
                                  corrections=counts[LabelChange.CORRECTION], source=source)
            tx.audit.record(by.name, "labels.ingested", f"endpoint:{endpoint}", {
                "source": source, "rows": report.rows, "new": report.new,
                "duplicates": report.duplicates, "corrections": report.corrections})
        return report

    def _checked(self, tx: Transaction, rows: Sequence[Mapping[str, Any]], *, endpoint: str,
                 entity: Sequence[str], source: str) -> list[tuple[str, int, str]]:
        """(decision id, outcome, observed_at) of each distinct row; LabelFileError naming
        every bad row otherwise."""
        problems: list[RowProblem] = []
        if not rows:
            raise InvalidInputError("rows", f"{source} holds no labels",
                                    rule="labels.nonempty")
        columns = set().union(*(row.keys() for row in rows))
        by_entity = "decision_id" not in columns
        needed = [*REQUIRED, *((*entity, "decided_at") if by_entity else ("decision_id",))]
        absent = [c for c in needed if c not in columns]
        unknown = sorted(columns - set(needed) - {"decision_id", "decided_at", *entity})
        if absent or unknown:
            raise InvalidInputError("columns", f"{source}: needs {', '.join(needed)} (or "
                                    f"decision_id instead of the entity keys and decided_at); "
                                    f"missing {absent or 'none'}, unknown {unknown or 'none'}",
                                    rule="labels.columns")
        ids = [] if by_entity else [str(row.get("decision_id") or "") for row in rows]
        known = tx.decisions.brief([i for i in ids if i])
        seen: dict[str, tuple[int, str, int]] = {}
        checked: list[tuple[str, int, str]] = []
        for number, row in enumerate(rows, start=1):
            def bad(field: str, rule: str, message: str, number: int = number) -> None:
                problems.append(RowProblem(row=number, field=field, rule=rule,
                                           message=message))

            outcome = _outcome(row.get("outcome"))
            if outcome is None:
                bad("outcome", "labels.outcome_binary",
                    f"{row.get('outcome')!r} is not 0 or 1 (1: the event)")
            observed = _moment(row.get("observed_at"))
            if observed is None:
                bad("observed_at", "labels.time_utc", f"{row.get('observed_at')!r} is not an "
                    "ISO 8601 time with its zone (e.g. 2026-03-01T00:00:00Z)")
            found = self._decision(tx, row, endpoint=endpoint, entity=entity,
                                   by_entity=by_entity, known=known, bad=bad)
            if found is None or outcome is None or observed is None:
                continue
            decision_id, decided_at = found
            if observed < decided_at:
                bad("observed_at", "labels.after_decision", f"{observed} is before the "
                    f"decision {decision_id} was made ({decided_at})")
                continue
            earlier = seen.get(decision_id)
            if earlier is not None:
                if earlier[:2] != (outcome, observed):
                    bad("outcome", "labels.one_per_decision", f"decision {decision_id} has "
                        f"another outcome in row {earlier[2]}; send corrections in a later "
                        "file")
                continue
            seen[decision_id] = (outcome, observed, number)
            checked.append((decision_id, outcome, observed))
        if problems:
            raise LabelFileError(source, problems)
        return checked

    def _decision(self, tx: Transaction, row: Mapping[str, Any], *, endpoint: str,
                  entity: Sequence[str], by_entity: bool,
                  known: Mapping[str, tuple[str | None, str]],
                  bad: Callable[[str, str, str], None]) -> tuple[str, str] | None:
        if not by_entity:
            decision_id = str(row.get("decision_id") or "")
            brief = known.get(decision_id)
            if brief is None:
                bad("decision_id", "labels.decision_known", f"{decision_id!r} is no logged "
                    "decision")
                return None
            if brief[0] != endpoint:
                bad("decision_id", "labels.decision_of_endpoint", f"{decision_id} was decided "
                    f"on {brief[0]}, not {endpoint}")
                return None
            return decision_id, brief[1]
        decided = _moment(row.get("decided_at"))
        keys = [row.get(key) for key in entity]
        if decided is None:
            bad("decided_at", "labels.time_utc", f"{row.get('decided_at')!r} is not an ISO "
                "8601 time with its zone")
            return None
        if any(value in (None, "") for value in keys):
            bad(entity[0], "labels.entity_given", "every entity key needs a value")
            return None
        pseudonym = pseudonymise("|".join(str(value) for value in keys), self._key)
        found = tx.decisions.latest_of_customer(endpoint, pseudonym, decided)
        if found is None:
            bad(entity[0], "labels.decision_known", f"no decision on {endpoint} for this "
                f"customer at or before {decided}")
        return found


def _outcome(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return {"0": 0, "1": 1, "0.0": 0, "1.0": 1}.get(text)


def _moment(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        return None
    return utc_timestamp(moment)
