"""A trained version through the gates without narration, as the portfolio's segments and
the use cases beside credit take it: the validator's sign-off on a stored run, staging,
then prod with the approvals its tier's policy names, each by a different person of the
cast, and the champion alias. What the tier's gates do not allow is left where it stands."""

from __future__ import annotations

from dataclasses import dataclass

from bankml.core.identity import Principal, Role
from bankml.core.registry import ModelVersion, Stage
from bankml.core.validation import Opinion, ValidationRun
from bankml.platform import Platform

APPROVERS = {Role.MODEL_RISK: "mira", Role.BUSINESS_OWNER: "bea"}  # the cast's approvers


@dataclass(frozen=True, slots=True)
class Gated:
    version: ModelVersion  # as it stands after the gates
    held_back: tuple[str, ...] = ()  # the prod gates that did not hold (none: in prod)


def signs_off(run: ValidationRun) -> bool:
    """The demo validator's rule: an adequate opinion, or minor deficiencies, and every
    fairness test passed."""
    return run.opinion <= Opinion.MINOR_DEFICIENCIES and run.fairness_passed


def sign_off(platform: Platform, people: dict[str, Principal], version: ModelVersion,
             run: ValidationRun, *, reason: str) -> bool:
    """The developer asks for staging; the validator records her conclusion on `run`
    (passed only by `signs_off`). Whether she passed it."""
    passed = signs_off(run)
    platform.oversight.request_transition(people["dana"], version.ref, Stage.STAGING,
                                          reason=reason)
    platform.oversight.record_validation(
        people["vera"], version.ref, passed=passed, run_id=run.run_id,
        summary=f"Opinion {int(run.opinion)} ({run.opinion.label}) on the out-of-time "
                f"sample{'' if run.fairness_passed else '; fairness tests red'}.")
    return passed


def to_prod(platform: Platform, people: dict[str, Principal], version: ModelVersion, *,
            reason: str) -> Gated:
    """Prod when the tier's gates other than approvals hold: requested by the developer,
    approved in each role the policy names, then champion. Otherwise no request is made
    and the gates that do not hold are returned."""
    oversight, reader = platform.oversight, people["mira"]
    blocking = [g.rule for g in oversight.gates(reader, version.ref, Stage.PROD)
                if not g.passed and g.approval_role is None]
    if blocking:
        return Gated(version, tuple(blocking))
    request = oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                           reason=reason)
    for gate in oversight.gates(reader, version.ref, Stage.PROD, request):
        role = gate.approval_role
        if role is not None and not gate.passed:
            request = oversight.approve(people[APPROVERS[role]], request.request_id,
                                        role=role, comment="Within appetite.")
    version = platform.registry.get(version.ref)
    if version.stage != Stage.PROD:
        return Gated(version, tuple(g.rule for g in oversight.gates(
            reader, version.ref, Stage.PROD, request) if not g.passed))
    platform.registry.set_alias(people["eli"], version.name, "champion", version.number,
                                reason=reason)
    return Gated(platform.registry.get(version.ref))
