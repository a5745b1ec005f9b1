"""Demo step: people, a validation sign-off and four-eyes approval take a model to prod."""

from __future__ import annotations

from bankml.cli.app import console
from bankml.core.errors import BankmlError
from bankml.core.identity import Principal, Role
from bankml.core.oversight import TransitionRequest
from bankml.core.registry import ModelVersion, Stage
from bankml.core.validation import ValidationRun
from bankml.platform import Platform

# (username, display name, roles): a small bank's model-risk cast
SECOND_ADMIN = ("otto", "Otto Operations", (Role.ADMIN,))
PEOPLE = (
    ("dana", "Dana Developer", (Role.DATA_SCIENTIST,)),
    ("eli", "Eli ML-Engineer", (Role.ML_ENGINEER,)),
    ("vera", "Vera Validator", (Role.VALIDATOR, Role.MODEL_RISK)),
    ("mira", "Mira Model-Risk", (Role.MODEL_RISK,)),
    ("bea", "Bea Business-Owner", (Role.BUSINESS_OWNER,)),
    ("aude", "Aude Auditor", (Role.AUDITOR,)),
)


def promote(platform: Platform, version: ModelVersion, people: dict[str, Principal],
            run: ValidationRun) -> ModelVersion:
    """Staging after an independent validation (resting on `run`), prod after a model-risk
    approval."""
    dana, vera, mira = people["dana"], people["vera"], people["mira"]
    oversight = platform.oversight
    tier = platform.registry.model(version.name).risk_tier
    console.print(f"{version.name} is tier {tier}; its policy sets the gates "
                  f"(bankml governance status {version.ref} prod).")

    to_staging = oversight.request_transition(dana, version.ref, Stage.STAGING,
                                              reason="ready for validation")
    _show(f"dana requests {version.ref} -> staging", to_staging)
    oversight.record_validation(vera, version.ref, passed=True, run_id=run.run_id,
                                summary=f"Opinion {int(run.opinion)} ({run.opinion.label}) "
                                "on the out-of-time sample; no red test.")
    _show(f"vera (validator) signs off, resting on run {run.run_id}",
          oversight.request(vera, to_staging.request_id))

    to_prod = oversight.request_transition(dana, version.ref, Stage.PROD,
                                           reason="validated; replaces manual scorecard")
    _show(f"dana requests {version.ref} -> prod", to_prod)
    try:
        oversight.approve(vera, to_prod.request_id, role=Role.MODEL_RISK)
    except BankmlError as refused:
        console.print(f"  vera tries to approve as model_risk: [red]refused[/] ({refused.rule}): "
                      f"{refused}")
    approved = oversight.approve(mira, to_prod.request_id, role=Role.MODEL_RISK,
                                 comment="Within appetite.")
    _show("mira (model risk) approves", approved)
    return platform.registry.get(version.ref)


def cast(platform: Platform, actor: str) -> dict[str, Principal]:
    """The demo's people, added by the first admin when they are not there yet; roles that
    validate or approve take effect when the second admin confirms them."""
    identity = platform.identity
    identity.bootstrap_admin(actor.lower())
    first = identity.user(actor.lower())
    known = {user.name: user for user in identity.users(first)}
    added = []
    for username, name, roles in (SECOND_ADMIN, *PEOPLE):
        if username not in known:
            identity.add_user(first, username, roles=frozenset(roles), display_name=name)
            added.append(username)
    second = identity.user(SECOND_ADMIN[0])
    pending = identity.grants(first, pending_only=True)
    for grant in pending:
        identity.confirm_grant(second, grant.grant_id)
    if added:
        console.print(f"{first.name} (admin) adds {', '.join(added)}; "
                      f"{len(pending)} grants of roles that validate or approve wait for a "
                      f"second admin, and {second.name} confirms them (four eyes on access).")
    return {user.name: user for user in identity.users(first)}


def _show(step: str, request: TransitionRequest) -> None:
    colour = {"executed": "green", "open": "yellow"}.get(str(request.status), "red")
    console.print(f"  {step}: request #{request.request_id} [{colour}]{request.status}[/]")
