"""Monitoring: per endpoint, each model version and route over its monitoring windows
(score distribution, AUC/Gini, KPIs, PSI per feature) against the policy's bands, the
latest window's score histogram against the development sample, and the open alerts with
acknowledge / resolve.

Acknowledging and resolving go through the alerts service, as `POST
/v1/alerts/{id}/acknowledge|resolve` does: it checks the role, the comment and the alert's
state, and audits the move or the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from matplotlib.figure import Figure

from bankml.api.problems import status_of
from bankml.api.ui.pages import PageRoute, Posted, Visiting, Visitor, page, see_other
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.errors import BankmlError, NotFoundError
from bankml.core.monitoring import Alert, MetricTrend, ScoreHistogram
from bankml.core.validation import Better
from bankml.monitoring.policy import MonitoringPolicy
from bankml.reports.charts import svg
from bankml.reports.histograms import shares_against_baseline
from bankml.reports.timeseries import Bands, banded_series

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
PAGE = f"{COOKIE_PATH}/monitoring"
MOVES = {"acknowledge": "acknowledged", "resolve": "resolved"}
# what each panel draws, in the order shown; a metric a run did not store is left out
PANELS = (
    ("Score distribution", ("score.psi", "score.ks", "decision.psi")),
    ("Performance on matured labels", ("performance.auc", "performance.auc_drop",
                                       "performance.brier")),
)
TOP_FEATURES = 6  # lines on the PSI chart; the table has every feature


@dataclass(frozen=True, slots=True, kw_only=True)
class Panel:
    metric: str
    trend: MetricTrend
    chart: Markup | None
    bands: Bands | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Arm:
    """One model version and route of an endpoint, over its windows."""

    model: str
    route: str
    windows: list[str]  # window ends, oldest first
    sections: list[tuple[str, list[Panel]]]
    features: list[MetricTrend]  # feature.psi[...] of every input, highest latest first
    features_chart: Markup | None
    auc: MetricTrend | None  # for the Gini row: 2 AUC - 1
    histogram: ScoreHistogram | None  # the latest window's scores, when it saw this arm
    histogram_chart: Markup | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitored:
    endpoint: str
    arms: list[Arm]


@router.get("/monitoring")
def monitoring(request: Request, visiting: Visiting, *, endpoint: str = "",
               weeks: Annotated[int, Query(ge=1, le=520)] = 8, moved: str = "",
               alert: int | None = None) -> HTMLResponse:
    notice = (f"Alert {alert} {MOVES[moved]}." if moved in MOVES and alert is not None
              else "")
    return _page(request, visiting, endpoint=endpoint, weeks=weeks, notice=notice)


@router.post("/alerts/{alert_id}/{move}")
def move_alert(request: Request, alert_id: int, move: str, visiting: Visiting,
               form: Posted) -> Response:
    if move not in MOVES:
        raise NotFoundError("alert move", move, "acknowledge or resolve", field="move")
    act = getattr(visiting.platform.alerts, move)
    try:
        act(visiting.principal, alert_id, comment=form.get("comment"))
    except BankmlError as refused:
        return _page(request, visiting, endpoint="", weeks=8, refused=refused,
                     status=status_of(refused))
    return see_other(f"{PAGE}?moved={move}&alert={alert_id}")


def _page(request: Request, visiting: Visitor, *, endpoint: str, weeks: int,
          notice: str = "", refused: BankmlError | None = None,
          status: int = 200) -> HTMLResponse:
    platform, by = visiting.platform, visiting.principal
    names = sorted(v.name for v in platform.endpoints.latest())
    chosen = [endpoint] if endpoint in names else names
    since = datetime.now(UTC) - timedelta(weeks=weeks)
    policy = platform.monitor.policy
    shown = [Monitored(endpoint=name, arms=_arms(
        platform.monitor.status(by, name, since=since), policy,
        {(h.model, h.route): h for h in platform.monitor.score_histograms(by, name)}))
             for name in chosen]
    alerts: list[Alert] = platform.alerts.alerts(by, unresolved=True)
    return page(request, "monitoring.html", visiting=visiting, status=status,
                monitored=shown, names=names, endpoint=endpoint if endpoint in names
                else "", weeks=weeks, alerts=list(reversed(alerts)), notice=notice,
                refused=refused)


def _arms(found: list[MetricTrend], policy: MonitoringPolicy,
          histograms: dict[tuple[str, str], ScoreHistogram]) -> list[Arm]:
    grouped: dict[tuple[str, str], dict[str, MetricTrend]] = {}
    for trend in found:
        grouped.setdefault((trend.latest.model, trend.latest.route), {})[
            trend.latest.metric] = trend
    arms = []
    for (model, route), metrics in sorted(grouped.items()):
        windows = sorted({w.window_end for t in metrics.values() for w in t.history})
        sections = [(title, [_panel(metrics[m], policy) for m in wanted if m in metrics])
                    for title, wanted in PANELS]
        kpis = [_panel(t, policy) for m, t in sorted(metrics.items()) if m.startswith("kpi.")]
        sections.append(("Business KPIs", kpis))
        features = sorted((t for m, t in metrics.items() if m.startswith("feature.psi[")),
                          key=lambda t: -(t.latest.value or 0.0))
        top = {_feature(t.latest.metric): [(_label(w.window_end), w.value)
                                           for w in t.history]
               for t in features[:TOP_FEATURES]}
        bands = _bands(policy, "feature.psi")
        figure = banded_series(f"PSI of the {len(top)} inputs that moved most", top,
                               bands=bands) if top else None
        histogram = histograms.get((model, route))
        # the histogram is drawn in the first section, the score distribution's: kept for
        # it even when no score metric was measured (a version without a baseline)
        kept = [(t, p) for t, p in sections if p or (histogram and t == PANELS[0][0])]
        arms.append(Arm(model=model, route=route, windows=windows,
                        sections=kept, features=features,
                        features_chart=_markup(figure), auc=metrics.get("performance.auc"),
                        histogram=histogram,
                        histogram_chart=None if histogram is None else _histogram(histogram)))
    return arms


def _histogram(found: ScoreHistogram) -> Markup:
    """The histogram as an image with its own title and description, for a screen
    reader that reads the SVG rather than the table beside it."""
    shares = ScoreHistogram.shares(found.window)
    baseline = None if found.baseline is None else ScoreHistogram.shares(found.baseline)
    window = f"window to {_label(found.window_end)}"
    figure = shares_against_baseline(
        "score distribution, latest window", found.edges, shares, baseline,
        label=f"{window} (n {sum(found.window)})",
        baseline_label=f"development sample (n {sum(found.baseline or ())})")
    title = f"Score distribution of {found.model}, route {found.route}"
    described = (f"Share of decisions per score bin of 0.1 in the {window}"
                 + ("" if baseline is None else ", beside the development sample's")
                 + "; the same figures are in the table below.")
    drawn = svg(figure)
    opening = drawn.index(">") + 1
    return Markup(f'{drawn[:opening - 1]} role="img">'  # noqa: S704 - matplotlib's SVG, our text escaped
                  f"<title>{escape(title)}</title><desc>{escape(described)}</desc>"
                  f"{drawn[opening:]}")


def _panel(trend: MetricTrend, policy: MonitoringPolicy) -> Panel:
    metric = trend.latest.metric
    bands = _bands(policy, metric)
    figure = banded_series(metric, {metric: [(_label(w.window_end), w.value)
                                             for w in trend.history]}, bands=bands)
    return Panel(metric=metric, trend=trend, chart=_markup(figure), bands=bands)


def _bands(policy: MonitoringPolicy, metric: str) -> Bands | None:
    threshold = policy.threshold(metric)
    if threshold is None:
        return None
    return Bands(green=threshold.green, amber=threshold.amber,
                 lower_is_better=threshold.better == Better.LOWER)


def _markup(figure: Figure | None) -> Markup | None:
    if figure is None:
        return None
    return Markup(svg(figure))  # noqa: S704 - matplotlib's SVG, text escaped


def _feature(metric: str) -> str:
    return metric.partition("[")[2].rstrip("]")


def _label(window_end: str) -> str:
    return f"{window_end[5:10]} {window_end[11:16]}"
