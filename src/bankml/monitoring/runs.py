"""Monitoring runs: one endpoint's window of decisions against its model's baseline.

For every model version and route that decided in the window, a run measures the score
and decision rates against the development sample (PSI, KS), every input (PSI/CSI, KS,
chi-square, Jensen-Shannon, missing, out-of-range and unseen values), the approval-rate
KPI, and performance on the cohort whose labels have matured (the window one maturity
period earlier: AUC against the validated figure with the ECB PD-07 test, the Brier
score); each point gets its status from the monitoring policy. The points are stored as
one run per endpoint, window and as-of moment (a second run of the same window returns
the first), amber and red points open or refresh alerts in the same transaction, and the
alerts are then delivered to the webhooks. A run over many endpoints can measure them in
worker processes (`workers`, see monitoring/workers.py): each endpoint's run is the same;
the deliveries and after-run hooks follow in endpoint order, in the calling process.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from bankml.access import acting, viewing
from bankml.core.canonical import parse_utc_timestamp, utc_timestamp
from bankml.core.decisions import policy_from_description
from bankml.core.domains import profile
from bankml.core.errors import BankmlError, ConflictError, InvalidInputError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.monitoring import (
    MetricPoint,
    MetricTrend,
    MonitoringRun,
    ScoreHistogram,
    Status,
    trends,
)
from bankml.core.ports import MetadataStore
from bankml.monitoring.alerts import AlertDesk
from bankml.monitoring.challenger import Measured, challenger_points
from bankml.monitoring.drift import (
    FeatureDrift,
    NumericReference,
    categorical_drift,
    numeric_drift,
    references,
)
from bankml.monitoring.fairness import fairness_points
from bankml.monitoring.kpis import Matured, kpi_points
from bankml.monitoring.policy import MonitoringPolicy, load_policy
from bankml.monitoring.scores import score_counts, score_edges
from bankml.monitoring.window import WindowColumns, accumulate
from bankml.monitoring.workers import (
    Stored,
    WorkerOpener,
    check_workers,
    measure_in_workers,
)
from bankml.registry import Registry
from bankml.validation.calibration import brier_score
from bankml.validation.discrimination import auc_delong, compare_with_initial_auc
from bankml.validation.runs import Validation

# after a run: (the run, the policy it was measured under, the job's fresh data if given)
AfterRun = Callable[[MonitoringRun, MonitoringPolicy, "Path | None"], object]


@dataclass(frozen=True, slots=True, eq=False)
class _Baseline:
    """What a model version is compared with: its development sample, measured once."""

    inputs: dict[str, NumericReference | pd.Series]
    scores: NumericReference
    auc: tuple[float, str] | None


class Monitor:
    """Measures endpoints' windows and keeps every run as a time series."""

    def __init__(self, metadata: MetadataStore, registry: Registry, validation: Validation,
                 alerts: AlertDesk, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 policy: MonitoringPolicy | None = None,
                 worker: WorkerOpener | None = None) -> None:
        """`worker` opens this monitor again in a worker process (runs with `workers`
        above 1); without it every run measures in this process."""
        self._metadata, self._registry, self._validation = metadata, registry, validation
        self._alerts, self._clock, self._worker = alerts, clock, worker
        self._policy = policy or load_policy()
        self._baselines: dict[str, _Baseline | None] = {}
        self._after_run: list[AfterRun] = []

    def after_run(self, callback: AfterRun) -> None:
        """Call `callback(run, policy, data)` after every run of an endpoint (one measured
        now or read back): closing the loop hooks in here, and is idempotent per alert."""
        self._after_run.append(callback)

    @property
    def policy(self) -> MonitoringPolicy:
        return self._policy

    def run(self, by: Principal, *, endpoint: str | None = None,
            window_days: int | None = None, as_of: datetime | None = None,
            policy: MonitoringPolicy | None = None,
            data: Path | None = None, workers: int = 1) -> list[MonitoringRun]:
        """Measure the window (default: the policy's days) ending at `as_of` (default: the
        start of today, UTC) of `endpoint`, or of every endpoint; `data` is the fresh data
        a retraining the run starts reads instead of its spec's source.

        With `workers` above 1 the endpoints are measured in that many worker processes at
        once (at most one per endpoint), each run stored as this process would store it;
        the alerts' deliveries and the after-run hooks then follow here, in endpoint order.
        An error stops the endpoints not yet begun and is raised once the runs already
        stored have been followed up.
        """
        chosen = policy or self._policy
        # checked before long work, a bad input refused as audited; each run's own
        # transaction checks the permission again
        with viewing(self._metadata, by, Permission.MONITORING_RUN,
                     f"endpoint:{endpoint or '*'}"):
            check_workers(workers)
            if workers > 1 and self._worker is None:
                raise InvalidInputError("workers", "this monitor cannot open worker "
                                        "processes (it was built without a worker "
                                        "opener); run with 1", rule="monitoring.workers")
        end = as_of or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=window_days or chosen.window_days)
        with self._metadata.reading() as tx:
            names = [endpoint] if endpoint else sorted({e.name for e in tx.endpoints.all()})
            for name in names:
                tx.endpoints.latest(name)  # NotFoundError names an unknown endpoint
        first, last = utc_timestamp(start), utc_timestamp(end)
        if workers == 1 or len(names) == 1 or self._worker is None:
            done = []
            for name in names:
                run, raised = self._store_run(by, name, first, last, chosen)
                done.append(self._follow_up(Stored(run=run, raised=raised), chosen, data))
            return done
        found = measure_in_workers(self._worker, by, names, start=first, end=last,
                                   policy=chosen, workers=workers)
        done = [self._follow_up(one, chosen, data) for one in found
                if isinstance(one, Stored)]
        failed = next((one for one in found if isinstance(one, Exception)), None)
        if failed is not None:
            raise failed
        return done

    def _follow_up(self, stored: Stored, policy: MonitoringPolicy,
                   data: Path | None) -> MonitoringRun:
        """Deliver the alerts the run raised, then call the after-run hooks."""
        self._alerts.deliver(stored.raised)
        for callback in self._after_run:
            callback(stored.run, policy, data)
        return stored.run

    def runs(self, by: Principal, endpoint: str | None = None) -> list[MonitoringRun]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"endpoint:{endpoint or '*'}") as tx:
            return tx.monitoring.runs(endpoint)

    def run_of(self, by: Principal, run_id: str) -> MonitoringRun:
        """Raises NotFoundError."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"monitoring:{run_id}") as tx:
            return tx.monitoring.run(run_id)

    def points(self, by: Principal, run_id: str) -> list[MetricPoint]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"monitoring:{run_id}") as tx:
            return tx.monitoring.points(run_id)

    def series(self, by: Principal, endpoint: str, *, since: datetime | None = None
               ) -> list[tuple[str, MetricPoint]]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"endpoint:{endpoint}") as tx:
            return tx.monitoring.series(endpoint,
                                        since=utc_timestamp(since) if since else None)

    def status(self, by: Principal, endpoint: str, *, since: datetime | None = None
               ) -> list[MetricTrend]:
        """Each metric's latest status and its windows since `since`: the status table of
        the CLI and the API."""
        return trends(self.series(by, endpoint, since=since))

    def score_histograms(self, by: Principal, endpoint: str) -> list[ScoreHistogram]:
        """The score distribution of each model version and route in the endpoint's latest
        monitoring window (the window ending last), against the version's development
        sample: the two samples score PSI compares, counted on ten bins of 0.1. Empty
        before the first run. The runs keep no bins, so the window's scores are read
        again from the decision log (scores only, no inputs parsed)."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"endpoint:{endpoint}") as tx:
            runs = tx.monitoring.runs(endpoint)  # by window end, then by when measured
            if not runs:
                return []
            latest = runs[-1]
            scores: dict[tuple[str, str], list[float]] = {}
            for chunk in tx.decisions.monitored(endpoint, latest.window_start,
                                                latest.window_end, requests=False):
                for row in chunk:
                    scores.setdefault((f"{row[2]}@{row[3]}", row[4]), []).append(row[5])
        found = []
        for (model, route), window in sorted(scores.items()):
            baseline = self._baseline(model)
            found.append(ScoreHistogram(
                model=model, route=route, window_start=latest.window_start,
                window_end=latest.window_end, edges=score_edges(),
                window=score_counts(window),
                baseline=None if baseline is None else score_counts(baseline.scores.values)))
        return found

    # -- internals -----------------------------------------------------------------------

    def _store_run(self, by: Principal, endpoint: str, start: str, end: str,
                   policy: MonitoringPolicy) -> tuple[MonitoringRun, list[int]]:
        """The endpoint's run of the window, measured and stored now (with the alerts it
        opened or made red, to deliver) or as stored before (nothing to deliver)."""
        with self._metadata.reading() as tx:
            known = tx.monitoring.find_run(endpoint, start, end, end)
            if known is not None:
                return known, []  # a window is measured once
            declared = tx.endpoints.latest(endpoint).endpoint
            days = self._maturity_days(endpoint, declared.model, policy)
            attributes = declared.monitoring_attributes
            groups = accumulate(tx.decisions.monitored(endpoint, start, end,
                                                       requests=bool(attributes)),
                                attributes=attributes)
            # Performance reads the cohort whose labels have matured: the same length of
            # window, one maturity period earlier (a credit label is final after months);
            # with no maturity it is the window itself, read once.
            cohort_start, cohort_end = _shifted(start, -days), _shifted(end, -days)
            cohorts = groups if days == 0 else accumulate(
                tx.decisions.monitored(endpoint, cohort_start, cohort_end,
                                       requests=bool(attributes)), attributes=attributes)
            for window in [*groups.values(), *cohorts.values()]:
                window.policy_json = tx.decisions.policy_of(window.decision_ids[0])
        points: list[MetricPoint] = []
        measured: dict[str, Measured] = {}
        for key, window in sorted(groups.items()):
            found = self._measure(endpoint, window, cohort=cohorts.get(key),
                                  maturity_days=days, as_of=end, policy=policy)
            points += found.points
            measured.setdefault(key[1], found)  # one version per route in a window, usually
        champion = measured.pop("champion", None)
        if champion is not None:
            for challenger in measured.values():
                points += challenger_points(champion, challenger)
        counts = {s: sum(p.status == s for p in points) for s in Status}
        run = MonitoringRun(
            run_id=secrets.token_hex(8), endpoint=endpoint, window_start=start,
            window_end=end, as_of=end, policy_id=policy.policy_id,
            policy_version=policy.version, created_at=utc_timestamp(self._clock()),
            created_by=by.name, decisions=sum(len(w) for w in groups.values()),
            greens=counts[Status.GREEN], ambers=counts[Status.AMBER], reds=counts[Status.RED])
        try:
            with acting(self._metadata, by, Permission.MONITORING_RUN,
                        f"endpoint:{endpoint}") as tx:
                tx.monitoring.add_run(run, points)
                raised = self._alerts.raise_for(tx, by, run, points)
                tx.audit.record(by.name, "monitoring.run", f"endpoint:{endpoint}", {
                    "run_id": run.run_id, "window_start": start, "window_end": end,
                    "policy": policy.policy_id, "policy_version": policy.version,
                    "decisions": run.decisions, "greens": run.greens, "ambers": run.ambers,
                    "reds": run.reds, "alerts": raised})
        except ConflictError as raced:
            if raced.rule != "monitoring.run_unique":
                raise
            with self._metadata.reading() as tx:
                stored = tx.monitoring.find_run(endpoint, start, end, end)
            if stored is None:
                raise
            return stored, []
        return run, raised

    def _measure(self, endpoint: str, window: WindowColumns, *,
                 cohort: WindowColumns | None, maturity_days: int, as_of: str,
                 policy: MonitoringPolicy) -> Measured:
        model, route, n = window.model, window.route, len(window)

        def point(metric: str, value: float | None, n: int, *, p_value: float | None = None,
                  baseline: float | None = None, detail: str = "",
                  judged: bool = True) -> MetricPoint:
            threshold = policy.threshold(metric) if judged else None
            status = (threshold.status(value, n=n, p_value=p_value) if threshold is not None
                      else Status.INFO)
            return MetricPoint(metric=metric, model=model, route=route,
                               value=None if value is None else float(value), n=n,
                               status=status, p_value=p_value, baseline=baseline,
                               detail=detail)

        domain = profile(self._registry.model(model.rpartition("@")[0]).domain)
        days = maturity_days
        mature_before = _shifted(as_of, -days)
        immature = int(np.count_nonzero(window.decided_after(mature_before)))
        matured = _matured(cohort or WindowColumns(model=model, route=route,
                                                   attribute_names=window.attribute_names),
                           mature_before)
        points = [
            point("decisions", float(n), n, judged=False),
            point("performance.immature", float(immature), n, judged=False,
                  detail=f"decided after {mature_before} ({days}-day maturity): excluded; "
                         f"performance reads the {days}-day older cohort"),
            point("performance.labelled", float(matured.rows.size), matured.mature,
                  judged=False, detail=f"{matured.mature - matured.rows.size} matured "
                                       "decisions have no label yet")]
        favourable = str(policy_from_description(json.loads(window.policy_json)).outcomes[0])
        points += fairness_points(point, window, favourable=favourable, policy=policy)
        points += kpi_points(point, window, domain=domain, matured=matured,
                             inputs=policy.kpi_inputs(endpoint))
        baseline = self._baseline(model)
        if baseline is None:
            points.append(point("baseline.missing", None, 0, judged=False,
                                detail="no development sample: the version was not "
                                       "trained by `bankml train`"))
        else:
            points += self._distribution(point, baseline, window)
        points += _performance(point, window, matured,
                               None if baseline is None else baseline.auc)
        return Measured(window=window, matured=matured, points=points)

    def _distribution(self, point: Callable[..., MetricPoint], baseline: _Baseline,
                      window: WindowColumns) -> list[MetricPoint]:
        n = len(window)
        outcomes = window.outcome_series()
        score = numeric_drift(baseline.scores, window.score_array(), feature="score")
        points = [point("score.psi", score.psi.value, n, p_value=score.chi_square.p_value),
                  _ks_point(point, "score.ks", score, n)]
        policy = policy_from_description(json.loads(window.policy_json))
        developed = pd.Series([str(policy.decide(s)) for s in baseline.scores.values.tolist()])
        rates = categorical_drift(developed, outcomes, feature="decision")
        points.append(point("decision.psi", rates.psi.value, n,
                            p_value=rates.chi_square.p_value))
        favourable = str(policy.outcomes[0])
        now, then = float((outcomes == favourable).mean()), float((developed == favourable).mean())
        points += [point(f"kpi.{favourable}_rate", now, n, baseline=then, judged=False),
                   point("kpi.approval_rate_change", abs(now - then), n, baseline=then,
                         detail=f"{favourable} rate {now:.3f} against {then:.3f} in development")]
        for name, reference in baseline.inputs.items():
            column = window.column(name)
            drift = (numeric_drift(reference, pd.to_numeric(column).to_numpy(np.float64),
                                   feature=name)
                     if isinstance(reference, NumericReference)
                     else categorical_drift(reference, column, feature=name))
            points += _feature_points(point, drift, n)
        return points

    def _maturity_days(self, endpoint: str, model_name: str, policy: MonitoringPolicy) -> int:
        """The endpoint's label maturity: the policy's, else its model's domain's."""
        if endpoint in policy.maturity_days:
            return policy.maturity_days[endpoint]
        return profile(self._registry.model(model_name).domain).label_maturity_days

    def _baseline(self, model: str) -> _Baseline | None:
        if model not in self._baselines:
            try:
                inputs, scores = self._validation.development_sample(model)
            except (NotFoundError, BankmlError):
                self._baselines[model] = None
                return None
            self._baselines[model] = _Baseline(
                inputs=references(inputs, list(inputs.columns), bins=self._policy.psi_bins),
                scores=NumericReference.of(scores, bins=self._policy.psi_bins),
                auc=self._validation.validated_auc(model))
        return self._baselines[model]


def _performance(point: Callable[..., MetricPoint], window: WindowColumns, matured: Matured,
                 validated: tuple[float, str] | None) -> list[MetricPoint]:
    """AUC with its DeLong CI, its drop from the validated AUC (ECB PD-07), the Brier score:
    on matured labels only."""
    y, n = matured.events, int(matured.events.size)
    if n == 0 or int(y.sum()) in (0, n):
        return [point("performance.auc_drop", None, n,
                      detail="needs matured labels of both classes")]
    s = matured.window.score_array()[matured.rows]
    auc = auc_delong(y, s)
    points = [point("performance.auc", auc.auc, n, judged=False,
                    detail=f"DeLong 95% CI {auc.ci_low:.3f} .. {auc.ci_high:.3f}")]
    if validated is not None:
        initial, source = validated
        # compare_with_initial_auc divides by the standard error, 0 when the labels are
        # separated perfectly: the drop is then certain (or there is none)
        p_value = (compare_with_initial_auc(y, s, auc_initial=initial).p_value
                   if auc.std_error > 0 else float(initial <= auc.auc))
        points.append(point("performance.auc_drop", initial - auc.auc, n, p_value=p_value,
                            baseline=initial, detail=f"against the {source} (ECB PD-07 test)"))
    points.append(point("performance.brier", brier_score(y, s).score, n))
    return points


def _ks_point(point: Callable[..., MetricPoint], metric: str, drift: FeatureDrift,
              n: int) -> MetricPoint:
    if drift.ks is None:
        return point(metric, None, n)
    return point(metric, drift.ks.statistic, n, p_value=drift.ks.p_value)


def _feature_points(point: Callable[..., MetricPoint], drift: FeatureDrift,
                    n: int) -> list[MetricPoint]:
    name = drift.feature
    points = [point(f"feature.psi[{name}]", drift.psi.value, n,
                    p_value=drift.chi_square.p_value),
              point(f"feature.chi_square[{name}]", drift.chi_square.cramers_v, n,
                    p_value=drift.chi_square.p_value,
                    detail=f"chi2 {drift.chi_square.statistic:.4g}, dof {drift.chi_square.dof}"),
              point(f"feature.js[{name}]", drift.js_distance, n),
              point(f"quality.missing_rate[{name}]", drift.missing_rate, n,
                    baseline=drift.missing_rate_reference)]
    if drift.kind == "numeric":
        points += [_ks_point(point, f"feature.ks[{name}]", drift, n),
                   point(f"quality.out_of_range[{name}]", drift.out_of_range_rate, n)]
    else:
        points.append(point(f"quality.unseen[{name}]", drift.unseen_rate, n))
    return points


def _matured(cohort: WindowColumns, mature_before: str) -> Matured:
    """The cohort's decisions old enough to be judged, and those of them with a label."""
    mature = ~cohort.decided_after(mature_before)
    labels = cohort.label_array()
    rows = np.flatnonzero(mature & ~np.isnan(labels)).astype(np.int64)
    return Matured(window=cohort, mature=int(np.count_nonzero(mature)), rows=rows,
                   events=labels[rows].astype(np.int64))


def _shifted(moment: str, days: int) -> str:
    return utc_timestamp(parse_utc_timestamp(moment) + timedelta(days=days))


__all__ = ["Monitor"]
