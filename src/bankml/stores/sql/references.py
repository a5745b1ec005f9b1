"""Every sha256 the metadata mentions: what housekeeping must never remove.

Rather than a list of the columns that refer to artifacts today (which would miss the
next table someone adds), every text column of every table is scanned for 64-hex-digit
tokens: model artifacts, dataset snapshots in manifests, validation results, feature
profiles in audit payloads, anchors, and whatever comes next. A token that is no
artifact's digest costs nothing but a set entry.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, String, Text, select

from bankml.stores.sql.tables import metadata

DIGEST = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
STREAM_BATCH = 1_000
# Columns whose 64-hex values are never artifacts, and that grow with every event or
# decision: the chain's own hashes, and customer pseudonyms.
NOT_REFERENCES = {("audit_events", "hash"), ("audit_events", "prev_hash"),
                  ("decisions", "customer_pseudo_id")}


class SqlReferences:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def digests(self) -> set[str]:
        found: set[str] = set()
        for table in metadata.sorted_tables:
            columns = [column for column in table.columns
                       if isinstance(column.type, String | Text)
                       and (table.name, column.name) not in NOT_REFERENCES]
            if not columns:
                continue
            rows = self._connection.execution_options(yield_per=STREAM_BATCH).execute(
                select(*columns))
            for row in rows:
                for value in row:
                    if value:
                        found.update(DIGEST.findall(str(value)))
        return found
