"""The lifecycle's one door: move a version between stages, inside the caller's transaction.

Not on the registry's public face: governance calls `move` once a request's gates hold, in
the very transaction that marks the request executed, so a crash cannot leave a moved
version with its request still open. The database holds the invariants as well: a stage
changes only from the stage it was read in (compare-and-set), and a unique index allows
one prod version per model, whatever two writers do at once.
"""

from __future__ import annotations

from bankml.core.errors import InvalidInputError
from bankml.core.ports import Transaction
from bankml.core.registry import ModelVersion, Stage, StageChange, parse_model_ref


def move(tx: Transaction, ref: str, target: Stage | str, *, actor: str, moment: str,
         reason: str = "") -> ModelVersion:
    """Move `ref` to `target`; promoting to prod archives the version in prod before it,
    and archiving removes the version's aliases. Every step is audited in `tx`."""
    stage = parse_stage(target)
    version = resolve(tx, ref)
    moved = version.moved_to(stage)
    if stage == Stage.PROD:
        for previous in tx.models.in_stage(version.name, str(Stage.PROD)):
            _step(tx, previous, Stage.ARCHIVED, actor=actor, moment=moment,
                  reason=f"replaced in prod by {version.ref}")
    _step(tx, version, stage, actor=actor, moment=moment, reason=reason)
    return moved


def resolve(tx: Transaction, ref: str) -> ModelVersion:
    """The version `NAME@VERSION` or `NAME@ALIAS` names (a move must name one)."""
    name, selector = parse_model_ref(ref)
    if selector is None:
        raise InvalidInputError("model", f"{ref!r}: name the version to move "
                                "(NAME@VERSION or NAME@ALIAS)", rule="lifecycle.version_named")
    if isinstance(selector, int):
        return tx.models.get(name, selector)
    return tx.models.by_alias(name, selector)


def parse_stage(target: Stage | str) -> Stage:
    try:
        return Stage(target)
    except ValueError:
        names = ", ".join(stage.value for stage in Stage)
        raise InvalidInputError("stage", f"{target!r} is not a stage; use one of {names}",
                                rule="lifecycle.stage") from None


def _step(tx: Transaction, version: ModelVersion, target: Stage, *, actor: str, moment: str,
          reason: str) -> None:
    moved = version.moved_to(target)
    tx.models.save_stage(moved, expected=version.stage)
    tx.models.add_stage_change(StageChange(
        name=version.name, number=version.number, source=version.stage, target=target,
        changed_at=moment, actor=actor, reason=reason))
    dropped = []
    if target == Stage.ARCHIVED:
        for alias, number in sorted(tx.models.aliases(version.name).items()):
            if number == version.number:
                tx.models.remove_alias(version.name, alias)
                dropped.append(alias)
    tx.audit.record(actor, "model.transitioned", f"model:{version.ref}", {
        "from": str(version.stage), "to": str(target), "reason": reason,
        "aliases_removed": dropped})
