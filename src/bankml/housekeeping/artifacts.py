"""`bankml artifacts gc`: remove artifacts no record refers to, and stale incoming files.

Work that crashes or is refused after writing its bytes (a registration refused after
`put`, a training run stopped half way) leaves objects nothing refers to, and files in
incoming/ that were never committed. Neither is ever read; both take space.

Never removed: any digest the metadata mentions anywhere (stores/sql/references.py), any
digest mentioned inside a referenced JSON artifact, every anchor, and anything written
less than `grace` ago: a writer puts its bytes before it commits the row that refers to
them, so a young object may be about to be referred to. Objects are listed before the
references are read, and each is checked again just before it is removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bankml.access import acting, viewing
from bankml.core.errors import BankmlError, InvalidInputError
from bankml.core.identity import Permission, Principal
from bankml.core.ports import ArtifactInventory, MetadataStore, StoredObject

DEFAULT_GRACE = timedelta(hours=24)
SUBJECT = "artifacts:store"
SCANNED_BYTES = 8 << 20  # referenced artifacts up to this size are read for references
DIGEST = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


@dataclass(frozen=True, slots=True, kw_only=True)
class Collected:
    """What a collection removed (or, dry, would remove) and what it kept."""

    removed: list[StoredObject]
    stale_incoming: list[StoredObject]
    kept_referenced: int
    kept_young: int
    dry_run: bool

    @property
    def bytes_freed(self) -> int:
        return sum(item.size_bytes for item in (*self.removed, *self.stale_incoming))


class ArtifactCollection:
    def __init__(self, metadata: MetadataStore, artifacts: ArtifactInventory,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._artifacts, self._clock = metadata, artifacts, clock

    def gc(self, by: Principal, *, dry_run: bool = False,
           grace: timedelta = DEFAULT_GRACE) -> Collected:
        """Remove unreferenced artifacts and stale incoming files older than `grace`
        (ml_engineer); with `dry_run`, only say what would go. Audited."""
        with viewing(self._metadata, by, Permission.ARTIFACTS_COLLECT, SUBJECT):
            if grace < timedelta(0):
                raise InvalidInputError("grace", f"{grace} is negative",
                                        rule="artifacts.grace")
        cutoff = self._clock() - grace
        objects = list(self._artifacts.objects())  # listed first: anything later is young
        stale = [item for item in self._artifacts.staged() if item.modified_at < cutoff]
        referenced = self._referenced({item.name for item in objects})
        old = [item for item in objects if item.modified_at < cutoff]
        doomed = [item for item in old if item.name not in referenced]
        if not dry_run:
            doomed = [item for item in doomed
                      if self._artifacts.remove(item.name, unless_modified_after=cutoff)]
            for item in stale:
                self._artifacts.remove_staged(item.name)
        collected = Collected(removed=doomed, stale_incoming=stale,
                              kept_referenced=len([i for i in objects if i.name in referenced]),
                              kept_young=len(objects) - len(old), dry_run=dry_run)
        if not dry_run:
            with acting(self._metadata, by, Permission.ARTIFACTS_COLLECT, SUBJECT) as tx:
                tx.audit.record(by.name, "artifacts.collected", SUBJECT, {
                    "removed": [item.name for item in doomed],
                    "stale_incoming": len(stale), "bytes_freed": collected.bytes_freed,
                    "grace_s": grace.total_seconds()})
        return collected

    def _referenced(self, stored: set[str]) -> set[str]:
        """Digests the metadata mentions, anchors, and digests mentioned inside referenced
        JSON artifacts (transitively): a report or result may name the data it read."""
        with self._metadata.reading() as tx:
            referenced = tx.references.digests()
        referenced |= set(self._artifacts.anchor_digests())
        pending = sorted(referenced & stored)
        while pending:
            for found in self._mentioned_in(pending.pop()):
                if found not in referenced:
                    referenced.add(found)
                    if found in stored:
                        pending.append(found)
        return referenced

    def _mentioned_in(self, digest: str) -> set[str]:
        try:
            content = self._artifacts.get(digest)
        except BankmlError:  # corrupt or gone: it is kept either way; verify reports it
            return set()
        if len(content) > SCANNED_BYTES:
            return set()
        try:
            json.loads(content)
        except ValueError:  # models, Parquet: binary formats name no artifact
            return set()
        return set(DIGEST.findall(content.decode("utf-8")))
