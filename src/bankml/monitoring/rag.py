"""Every model's RAG status, by the one rule of core.monitoring.rag_of: the latest
monitoring run of each endpoint and the unresolved alerts. The inventory shows it; the
weekly review reads it from here too."""

from __future__ import annotations

from bankml.core.identity import Principal
from bankml.core.monitoring import MetricPoint, MonitoringRun, Rag, rag_of
from bankml.monitoring.alerts import AlertDesk
from bankml.monitoring.runs import Monitor


def model_rags(by: Principal, monitor: Monitor, alerts: AlertDesk,
               models: list[str]) -> dict[str, Rag]:
    """Each of `models` (names) with its RAG status."""
    latest: dict[str, MonitoringRun] = {}
    for run in monitor.runs(by):  # oldest window first: the last of an endpoint wins
        known = latest.get(run.endpoint)
        if known is None or (run.window_end, run.created_at) >= (known.window_end,
                                                                 known.created_at):
            latest[run.endpoint] = run
    points: dict[str, list[MetricPoint]] = {}
    for run in latest.values():
        for point in monitor.points(by, run.run_id):
            points.setdefault(point.model.rpartition("@")[0], []).append(point)
    unresolved = alerts.alerts(by, unresolved=True)
    return {name: rag_of(points.get(name, []), [a for a in unresolved if a.model == name])
            for name in models}


__all__ = ["model_rags"]
