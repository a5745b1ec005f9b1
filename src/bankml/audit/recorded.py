"""What the trail recorded when something was made, checked before the thing is used.

A row can be changed together with the digest beside it, so a digest in the same row
proves nothing; the digest in the audit event that created the row is chained, and a
change to it breaks the chain.
"""

from __future__ import annotations

from bankml.core.errors import IntegrityError
from bankml.core.features import FeatureViewVersion
from bankml.core.ports import Transaction

APPLIED = "feature_view.applied"


class DefinitionNotRecordedError(IntegrityError):
    """A stored feature definition is not the one its audit event recorded."""

    rule = "features.definition_recorded"


def recorded_definition(tx: Transaction, ref: str) -> str | None:
    """The digest the trail recorded when feature view version `ref` was created."""
    with_events = tx.audit.events(subject=f"feature_view:{ref}")
    try:
        for event in with_events:
            if event.action == APPLIED and event.payload.get("new_version"):
                return str(event.payload["digest"])
    finally:
        with_events.close()
    return None


def require_recorded_definition(tx: Transaction, version: FeatureViewVersion) -> None:
    """Refuse a version whose stored digest is not the one recorded when it was applied:
    its code would run (on-demand views) or its query be read, so nothing is executed."""
    recorded = recorded_definition(tx, version.ref)
    if recorded == version.digest:
        return
    found = (f"the trail recorded digest {recorded}" if recorded is not None
             else "the trail records no feature_view.applied event creating it")
    raise DefinitionNotRecordedError(
        f"Feature view {version.ref} is stored with digest {version.digest}, but {found}: "
        "its definition was changed in the database. It was not loaded and none of its "
        "code ran; restore the row from a backup or apply the definition again.",
        field="feature_view")
