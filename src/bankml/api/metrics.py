"""Prometheus metrics of `bankml serve`: decisions, stage latencies, errors, log batches.

With several worker processes, each writes its metrics to files in one folder
(prometheus-client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR, set by `bankml serve`),
so `/metrics` on any worker reports the whole server.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from bankml.core.decisions import DecisionRecord

STAGE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                 0.1, 0.25, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The server's instruments, in a registry of their own (tests open several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.stage_seconds = Histogram(
            "bankml_decision_stage_seconds", "Time spent in each stage of the decision path.",
            ["endpoint", "stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.decisions = Counter(
            "bankml_decisions", "Decisions made, by endpoint, model version and outcome.",
            ["endpoint", "model_version", "outcome"], registry=self.registry)
        self.errors = Counter(
            "bankml_errors", "Requests answered with a problem, by rule and status.",
            ["rule", "status"], registry=self.registry)
        self.batch_size = Histogram(
            "bankml_decision_log_batch_records", "Records per decision-log commit.",
            buckets=BATCH_BUCKETS, registry=self.registry)
        self._stages: dict[tuple[str, str], Any] = {}

    def observe_stage(self, endpoint: str, stage: str, seconds: float) -> None:
        child = self._stages.get((endpoint, stage))
        if child is None:  # labels() per observation costs more than the observation
            child = self._stages[(endpoint, stage)] = self.stage_seconds.labels(endpoint,
                                                                                stage)
        child.observe(seconds)

    def count_decision(self, record: DecisionRecord) -> None:
        self.decisions.labels(record.endpoint or "", record.model_ref,
                              str(record.outcome)).inc()

    def count_error(self, rule: str, status: int) -> None:
        self.errors.labels(rule, str(status)).inc()

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get(MULTIPROCESS):
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
