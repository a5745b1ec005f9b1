"""Deployments: each endpoint's champion and challenger, the traffic split, the rollout's
step and its guardrails over time, and the operator's promote / pause / resume / roll back.

The forms go through the rollout service, as `POST /v1/endpoints/{name}/rollout/{verb}`
does: it checks the role, the rollout's state and (promoting) the gates, and audits the
change or the refusal. A refusal is shown on the page with its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from bankml.api.problems import status_of
from bankml.api.ui.pages import PageRoute, Posted, Visiting, Visitor, page, see_other
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.errors import BankmlError, NotFoundError
from bankml.core.identity import Permission
from bankml.core.registry import ModelVersion
from bankml.core.rollouts import DIRECTION, Result, Rollout, RolloutStatus, StepKind
from bankml.reports.charts import svg
from bankml.reports.timeseries import Bands, banded_series
from bankml.rollouts import Evaluation
from bankml.serving.endpoints import CHAMPION

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
PAGE = f"{COOKIE_PATH}/deployments"
# what each form does, who may, and what the page says once it is done
OPERATIONS = {
    "pause": (Permission.ROLLOUT_PAUSE, "paused"),
    "resume": (Permission.ROLLOUT_PAUSE, "resumed"),
    "promote": (Permission.ROLLOUT_PROMOTE, "promoted: the challenger is champion"),
    "rollback": (Permission.ROLLOUT_ROLLBACK, "rolled back: every decision goes to the "
                                              "champion"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """Who answers and who is watched now: percent of customers per model."""

    champion: float
    canary: float  # the challenger answers this share
    shadow: float  # the challenger scores a copy of this share, unanswered


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardrailTrend:
    guardrail: str
    direction: str  # "max": a ceiling, "min": a floor
    threshold: float
    values: list[tuple[str, Result]]  # (moment, result), oldest first
    chart: Markup | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    endpoint: str
    endpoint_version: int
    model: str
    champion: ModelVersion | None
    evaluation: Evaluation | None  # the active rollout, else the latest
    split: Split
    guardrails: list[GuardrailTrend]
    history: list[Rollout]  # every rollout on the endpoint, newest first

    @property
    def rollout(self) -> Rollout | None:
        return None if self.evaluation is None else self.evaluation.rollout

    def offers(self, visitor: Visitor) -> list[str]:
        """The operations a form is shown for: the rollout's state allows them and the
        visitor's roles grant them (the service decides when one is posted)."""
        rollout = self.rollout
        if rollout is None or not rollout.is_active:
            return []
        allowed = {"pause" if rollout.status == RolloutStatus.RUNNING else "resume", "promote",
                   "rollback"}
        return [verb for verb, (permission, _) in OPERATIONS.items()
                if verb in allowed and visitor.can(permission)]


@router.get("/deployments")
def deployments(request: Request, visiting: Visiting, moved: str = "",
                endpoint: str = "") -> HTMLResponse:
    shown = _deployments(visiting)
    # only a known operation on a known endpoint comes back from the redirect
    notice = (f"The rollout on {endpoint} was {OPERATIONS[moved][1]}."
              if moved in OPERATIONS and endpoint in {d.endpoint for d in shown} else "")
    return page(request, "deployments.html", visiting=visiting, deployments=shown,
                notice=notice, refused=None, operations=OPERATIONS)


@router.post("/deployments/{endpoint}/{verb}")
def operate(request: Request, endpoint: str, verb: str, visiting: Visiting,
            form: Posted) -> Response:
    if verb not in OPERATIONS:
        raise NotFoundError("rollout operation", verb,
                            f"One of {', '.join(OPERATIONS)}.", field="verb")
    act = getattr(visiting.platform.rollouts, verb)
    try:
        act(visiting.principal, endpoint, comment=form.get("comment"))
    except BankmlError as refused:
        return page(request, "deployments.html", visiting=visiting,
                    deployments=_deployments(visiting), notice="", refused=refused,
                    operations=OPERATIONS, status=status_of(refused))
    return see_other(f"{PAGE}?moved={verb}&endpoint={quote(endpoint, safe='')}")


def _deployments(visiting: Visitor) -> list[Deployment]:
    platform, by = visiting.platform, visiting.principal
    found = []
    for served in sorted(platform.endpoints.latest(), key=lambda v: v.name):
        model = str(served.spec["model"])
        try:
            champion: ModelVersion | None = platform.registry.get(f"{model}@{CHAMPION}")
        except NotFoundError:
            champion = None
        try:
            evaluation: Evaluation | None = platform.rollouts.status(by, served.name)
        except NotFoundError:
            evaluation = None
        trends: list[GuardrailTrend] = []
        history: list[Rollout] = []
        if evaluation is not None:
            trends = _trends(platform.rollouts.trajectory(by, served.name))
            history = list(reversed(platform.rollouts.history(by, served.name)))
        found.append(Deployment(endpoint=served.name, endpoint_version=served.number,
                                model=model, champion=champion, evaluation=evaluation,
                                split=_split(evaluation), guardrails=trends,
                                history=history))
    return found


def _split(evaluation: Evaluation | None) -> Split:
    rollout = None if evaluation is None else evaluation.rollout
    step = None if rollout is None or not rollout.is_active else rollout.current
    if step is None:
        return Split(champion=100.0, canary=0.0, shadow=0.0)
    if step.kind == StepKind.CANARY:
        return Split(champion=100.0 - step.share, canary=step.share, shadow=0.0)
    return Split(champion=100.0, canary=0.0, shadow=step.share)


def _trends(trajectory: list[tuple[str, list[Result]]]) -> list[GuardrailTrend]:
    moments = [at for at, _ in trajectory]
    label = _labeller(moments)
    by_guardrail: dict[str, list[tuple[str, Result]]] = {}
    for at, results in trajectory:
        for result in results:
            by_guardrail.setdefault(str(result.guardrail), []).append((at, result))
    trends = []
    for name, values in by_guardrail.items():
        guardrail = values[-1][1].guardrail
        threshold = values[-1][1].threshold
        ceiling = DIRECTION[guardrail] == "max"
        figure = banded_series(
            name.replace("_", " "), {name: [(label(at), r.value) for at, r in values]},
            bands=Bands(green=threshold, amber=threshold, lower_is_better=ceiling))
        chart = Markup(svg(figure)) if figure is not None else None  # noqa: S704 - matplotlib's SVG, text escaped
        trends.append(GuardrailTrend(guardrail=name, direction=DIRECTION[guardrail],
                                     threshold=threshold, values=values, chart=chart))
    return trends


def _labeller(moments: list[str]) -> Callable[[str], str]:
    """Moments as short labels: the time of day, with the date when they span days."""
    days = {at[:10] for at in moments}

    def label(at: str) -> str:
        return f"{at[5:10]} {at[11:16]}" if len(days) > 1 else at[11:19]

    return label
