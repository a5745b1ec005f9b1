"""The decision path, one service for HTTP, the CLI and Python alike.

request -> endpoint (champion now; rollouts add routes) -> request fields checked against
the signature -> online features through the pinned view versions the champion trained on
-> score -> the endpoint's policy (and mode) -> reason codes for adverse outcomes ->
durable log (group commit, a Merkle root per batch) -> answer.

A decision record holds what replay and monitoring need; `replay` rebuilds a decision
from it, and `verify` re-scores a range of records and checks every batch's proof.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from bankml.access import acting, refuse, viewing
from bankml.core.canonical import (
    canonical_json,
    plain_canonical_json,
    to_plain,
    utc_timestamp,
)
from bankml.core.decisions import (
    RECORD_SCHEMA,
    DecisionOverride,
    DecisionRecord,
    Outcome,
    policy_from_description,
    pseudonymise,
    record_of_fields,
)
from bankml.core.endpoints import MissingEntity, Mode
from bankml.core.errors import BankmlError, IntegrityError, InvalidInputError, UnavailableError
from bankml.core.identity import SYSTEM, Permission, Principal
from bankml.core.limits import check_integer
from bankml.core.ports import MetadataStore, Transaction
from bankml.core.replay import REPLAY_TOLERANCE, Replay, reasons_of
from bankml.core.rollouts import SHADOW_FAILED, Route, arm_for
from bankml.explain import adverse_reasons, directions_of
from bankml.features.service import ServiceReads
from bankml.registry import Registry
from bankml.serving.inputs import feature_inputs
from bankml.serving.log import DecisionLogWriter, check_same_request
from bankml.serving.runtime import LoadedEndpoint, Routing, Runtime
from bankml.serving.scoring import FrameScorer, Scored
from bankml.serving.sealing import Sealer
from bankml.serving.shadow import ShadowQueue
from bankml.serving.shadow_process import ShadowProcess
from bankml.serving.verify import (
    Rescoring,
    VerifyReport,
    Window,
    check_log,
    compare_features,
    record_problems,
    timed,
)

Observe = Callable[[str, str, float], None]  # endpoint, stage, seconds
CUSTOMER_DECISIONS = 50  # newest, for a lookup by customer


def _ignore(_endpoint: str, _stage: str, _seconds: float) -> None:
    return None


class DecisionService:
    def __init__(self, metadata: MetadataStore, registry: Registry, *, runtime: Runtime,
                 features: ServiceReads, log: DecisionLogWriter, pseudonym_key: bytes,
                 code_version: str = "",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 observe: Observe = _ignore,
                 shadow_process: ShadowProcess | None = None) -> None:
        self._metadata, self._registry, self._runtime = metadata, registry, runtime
        self._features, self._log, self._key = features, log, pseudonym_key
        self._sealer = Sealer(pseudonym_key)
        self._code_version, self._clock, self._observe = code_version, clock, observe
        self._local_shadow = ShadowQueue(sink=self._shadow_sink)  # records in bulk
        self._shadow_process = shadow_process
        self._challengers: dict[str, tuple[tuple[str, str], LoadedEndpoint]] = {}

    @property
    def shadow(self) -> ShadowQueue | ShadowProcess:
        """Where shadow work runs: a process of its own, or a thread of this one."""
        return self._shadow_process or self._local_shadow

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    def observe(self, observe: Observe) -> None:
        """Report each stage's duration to `observe` (metrics)."""
        self._observe = observe

    def decide(self, by: Principal, endpoint: str, requests: Sequence[Mapping[str, Any]], *,
               idempotency_key: str | None = None) -> list[DecisionRecord]:
        """Decide on each request and return only once every decision is durable.

        With `idempotency_key` (one request only), a retry returns the decision made under
        that key, never a second one.
        """
        return self._submit(by, endpoint, requests, idempotency_key=idempotency_key,
                            log_here=True).result()

    async def decide_async(self, by: Principal, endpoint: str,
                           requests: Sequence[Mapping[str, Any]], *,
                           idempotency_key: str | None = None) -> list[DecisionRecord]:
        """`decide` for an event loop: the loop serves others while the log commits."""
        return await asyncio.wrap_future(self.submit(by, endpoint, requests,
                                                     idempotency_key=idempotency_key))

    def submit(self, by: Principal, endpoint: str, requests: Sequence[Mapping[str, Any]], *,
               idempotency_key: str | None = None) -> Future[list[DecisionRecord]]:
        """Make the decisions and hand them to the log; the future resolves (to what the log
        holds) once they are durable. Nothing may be answered before that."""
        return self._submit(by, endpoint, requests, idempotency_key=idempotency_key,
                            log_here=False)

    def _submit(self, by: Principal, endpoint: str, requests: Sequence[Mapping[str, Any]], *,
                idempotency_key: str | None, log_here: bool) -> Future[list[DecisionRecord]]:
        started = time.perf_counter()
        received_at = utc_timestamp(self._clock())
        self._check_caller(by, endpoint)
        loaded = self._runtime.endpoint(endpoint)
        slot = None if idempotency_key is None else f"{by.name}:{idempotency_key}"
        if slot is not None:  # keys are the caller's own: another caller's never collide
            if len(requests) != 1:
                raise InvalidInputError("Idempotency-Key", "goes with a single decision, not "
                                        "a batch", rule="decision.idempotency_single")
            with self._metadata.reading() as tx:
                known = tx.decisions.by_idempotency_key(endpoint, slot)
            if known is not None:
                check_same_request(known, self._request_json(loaded, requests[0]),
                                   self._pseudonym(loaded, requests[0]))
                answered: Future[list[DecisionRecord]] = Future()
                answered.set_result([known])
                return answered
        if loaded.endpoint.mode == Mode.STOPPED:
            raise UnavailableError(f"Endpoint {endpoint} is stopped by its owners (human "
                                   "oversight); no decision is made.", rule="endpoint.stopped")
        lap = self._stages(endpoint)
        routing = self._runtime.routing(loaded)
        pseudonyms = [self._pseudonym(loaded, request) for request in requests]
        routes = ([routing.rollout.route_for(p) for p in pseudonyms] if routing is not None
                  else [Route.CHAMPION] * len(requests))
        made = Made(by=by, requests=requests, pseudonyms=pseudonyms,
                    received_at=received_at, started=started, many=len(requests) > 1)
        canary = [i for i, route in enumerate(routes) if route == Route.CANARY]
        champion = [i for i, route in enumerate(routes) if route != Route.CANARY]
        records: dict[int, DecisionRecord] = {}
        if champion:
            records |= self._make(made, loaded, champion, Route.CHAMPION, lap)
        if canary and routing is not None:
            records |= self._canary(made, loaded, routing, canary, lap)
        ordered = [records[i] for i in range(len(requests))]
        lap("record")
        logged = self._log.submit(ordered, [slot] * len(ordered), here=log_here)
        if routing is not None and routing.rollout.shadows:
            self._offer_shadow(made, routing)
        logged.add_done_callback(lambda _: lap("log"))
        return logged

    def get(self, by: Principal, decision_id: str) -> DecisionRecord:
        """A logged decision (its inputs are personal data: reading it is a permission)."""
        with viewing(self._metadata, by, Permission.DECISION_READ,
                     f"decision:{decision_id}") as tx:
            record = tx.decisions.get(decision_id)
        self._check_scope(by, record)
        return record

    def of_customer(self, by: Principal, customer_id: str, *,
                    limit: int = CUSTOMER_DECISIONS) -> list[DecisionRecord]:
        """A customer's newest decisions, found by the id in clear: it is pseudonymised
        with the installation's key, as the log holds it, and never kept in clear (a
        refusal is audited naming the pseudonym). Decisions of endpoints outside the
        principal's scope are left out. An entity of several keys is written as the log
        joins them: `key1|key2`."""
        customer = customer_id.strip()
        if not customer:
            raise InvalidInputError("customer_id", "give the customer's id",
                                    rule="input.required")
        check_integer("limit", limit)
        pseudonym = pseudonymise(customer, self._key)
        with viewing(self._metadata, by, Permission.DECISION_READ,
                     f"customer:{pseudonym}") as tx:
            found = tx.decisions.of_customer(pseudonym, limit=limit)
        return [r for r in found if r.endpoint is None or by.may_call(r.endpoint)]

    def overrides(self, by: Principal, decision_id: str) -> list[DecisionOverride]:
        with viewing(self._metadata, by, Permission.DECISION_READ,
                     f"decision:{decision_id}") as tx:
            return tx.decisions.overrides(decision_id)

    def override(self, by: Principal, decision_id: str, *, outcome: Outcome | str,
                 reason_code: str, comment: str) -> DecisionOverride:
        """A person's different outcome, recorded against the decision, never replacing it."""
        subject = f"decision:{decision_id}"
        if not reason_code.strip() or not comment.strip():
            raise InvalidInputError("reason_code" if not reason_code.strip() else "comment",
                                    "an override needs a reason code and a comment",
                                    rule="decision.override_justified")
        try:
            chosen = Outcome(outcome)
        except ValueError:
            raise InvalidInputError("outcome", f"{outcome!r} is not an outcome",
                                    rule="decision.override_outcome") from None
        with acting(self._metadata, by, Permission.DECISION_OVERRIDE, subject) as tx:
            record = tx.decisions.get(decision_id)
            allowed = policy_from_description(json.loads(record.policy_json)).outcomes
            if chosen not in allowed or chosen == record.outcome:
                raise InvalidInputError("outcome", f"{chosen} is not another outcome of this "
                                        f"decision's policy ({', '.join(allowed)})",
                                        rule="decision.override_outcome")
            override = DecisionOverride(
                override_id=0, decision_id=decision_id, outcome=chosen,
                reason_code=reason_code, comment=comment, overridden_by=by.name,
                overridden_at=utc_timestamp(self._clock()))
            override_id = tx.decisions.add_override(override)
            tx.audit.record(by.name, "decision.overridden", subject, {
                "from": str(record.outcome), "to": str(chosen), "reason_code": reason_code,
                "comment": comment, "record_sha256": record.record_sha256})
        return DecisionOverride(**{**_fields(override), "override_id": override_id})

    def replay(self, by: Principal, decision_id: str) -> Replay:
        """Re-score a logged decision from its artifact and recorded inputs (audited)."""
        subject = f"decision:{decision_id}"
        with viewing(self._metadata, by, Permission.DECISION_REPLAY, subject) as tx:
            record = tx.decisions.get(decision_id)
            _check_proof(tx, decision_id)
            endpoint = (tx.endpoints.get(record.endpoint, record.endpoint_version)
                        if record.endpoint is not None and record.endpoint_version else None)
        self._check_scope(by, record)
        version = self._registry.get(record.model_ref)
        row = json.loads(record.inputs_json)
        loaded = (self._runtime.load_version(endpoint, version) if endpoint is not None
                  else None)
        # The general path, through a DataFrame and the model's own predict_proba: a replay
        # also checks that the fast path the decision took agrees with it to the bit.
        scored = FrameScorer(self._runtime.model(version), version.inputs,
                             None if loaded is None else loaded.explainer).score([row])
        score = float(scored.scores[0])
        described = json.loads(record.policy_json)
        policy = policy_from_description(described)
        outcome = policy.review if described.get("review") else policy.decide(score)
        reasons: tuple[str, ...] | None = None
        if loaded is not None and loaded.endpoint.reasons is not None:
            reasons = tuple(r["code"] for r in self._reasons(
                loaded, scored, [row], [Outcome(record.outcome)])[0])
        replayed = Replay(record=record, score=score, outcome=str(outcome), reasons=reasons)
        with acting(self._metadata, by, Permission.DECISION_REPLAY, subject) as tx:
            tx.audit.record(by.name, "decision.replayed", subject, {
                "record_sha256": record.record_sha256, "score": score,
                "outcome": replayed.outcome, "identical": replayed.is_identical})
        return replayed

    def verify(self, by: Principal, *, endpoint: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               recompute_features: bool = False) -> VerifyReport:
        """Check the batch proofs of the records in range and make each decision again
        (audited). `recompute_features` also rebuilds online feature values offline."""
        started = time.perf_counter()
        subject = f"decisions:{endpoint or '*'}"
        report = VerifyReport()
        window = {"endpoint": endpoint,
                  "since": utc_timestamp(since) if since else None,
                  "until": utc_timestamp(until) if until else None}
        with Rescoring(self._scoring_model, keep=recompute_features) as rescoring:
            with viewing(self._metadata, by, Permission.DECISION_REPLAY, subject) as tx:
                check_log(tx, report, Window(**window), rescoring)
            rescoring.finish(report)  # outside the view: a model that fails is no refusal
        for ref, rows in (rescoring.kept or {}).items():
            refs = feature_inputs(self._registry.get(ref))
            if refs:
                self._compare_offline([record_of_fields(row[2:]) for row in rows], refs,
                                      report)
        with acting(self._metadata, by, Permission.DECISION_REPLAY, subject) as tx:
            tx.audit.record(by.name, "decisions.verified", subject, {
                **window, "checked": report.checked, "proofs_checked": report.proofs_checked,
                "proof_problems": len(report.proof_problems),
                "mismatches": len(report.mismatches)})
        return timed(report, started)

    # -- internals -----------------------------------------------------------------------

    def _scoring_model(self, ref: str) -> tuple[Any, list[str]]:
        """The model a logged decision names, and its inputs (verify re-scores with it)."""
        version = self._registry.get(ref)
        return self._runtime.model(version), version.inputs

    def _make(self, made: Made, loaded: LoadedEndpoint, positions: Sequence[int], route: Route,
              lap: Callable[[str], None]) -> dict[int, DecisionRecord]:
        """Decide the requests at `positions` with `loaded`'s model, on `route`."""
        requests = [made.requests[i] for i in positions]
        inputs = [loaded.schema.check(request, where=f"requests[{i}]" if made.many else "")
                  for i, request in zip(positions, requests, strict=True)]
        lap("validate")
        ids = [uuid.uuid4().hex for _ in requests]
        features, provenance = self._online(loaded, requests, ids)
        lap("features")
        rows = [{**row, **online} for row, online in zip(inputs, features, strict=True)]
        scored = loaded.scorer.score(rows)
        lap("score")
        outcomes = [loaded.policy.review if loaded.endpoint.mode == Mode.HUMAN_REVIEW
                    else loaded.policy.decide(float(score)) for score in scored.scores]
        lap("policy")
        # a shadow's outcome is never given to anyone, so it owes no reasons: leaving them
        # out keeps the shadow worker's share of the CPU small
        reasons = (self._reasons(loaded, scored, rows, outcomes) if route != Route.SHADOW
                   else [[] for _ in outcomes])
        lap("reasons")
        decided_at = utc_timestamp(self._clock())
        latency_us = int((time.perf_counter() - made.started) * 1e6)
        return {position: self._record(
                    loaded, request, made.by, decision_id=decision_id, row=row, score=score,
                    outcome=outcome, reasons=reason, online=online,
                    received_at=made.received_at, decided_at=decided_at,
                    latency_us=latency_us, route=route, pseudonym=made.pseudonyms[position])
                for position, decision_id, request, row, score, outcome, reason, online in zip(
                    positions, ids, requests, rows, scored.scores.tolist(), outcomes, reasons,
                    provenance, strict=True)}

    def _canary(self, made: Made, loaded: LoadedEndpoint, routing: Routing,
                positions: Sequence[int], lap: Callable[[str], None]
                ) -> dict[int, DecisionRecord]:
        """The challenger decides for its customers; if it fails, the champion does (route
        `fallback`, which the error-rate guardrail counts). Bad input is refused by the
        champion's schema first, so both arms refuse alike."""
        for i in positions:
            loaded.schema.check(made.requests[i], where=f"requests[{i}]" if made.many else "")
        try:
            return self._make(made, routing.challenger, positions, Route.CANARY, lap)
        except Exception:  # the customer is answered by the champion instead
            return self._make(made, loaded, positions, Route.FALLBACK, lap)

    def _offer_shadow(self, made: Made, routing: Routing) -> None:
        """Copy the step's share of requests (sticky by customer) to the challenger, off
        the response path; its records are logged with route `shadow`, never answered."""
        share = routing.rollout.shadows
        positions = [i for i, p in enumerate(made.pseudonyms)
                     if arm_for(p, routing.rollout.salt, share) == Route.CANARY]
        if not positions:
            return
        work = ShadowWork(made=made, positions=tuple(positions),
                          rollout_id=routing.rollout.rollout_id,
                          endpoint=routing.rollout.endpoint,
                          endpoint_version=routing.challenger.version.number,
                          challenger=routing.rollout.challenger_ref)
        if self._shadow_process is not None:
            self._shadow_process.offer(work)
        else:
            self.shadow_locally(work, routing.challenger)

    def shadow_locally(self, work: ShadowWork, challenger: LoadedEndpoint | None = None
                       ) -> None:
        """Queue `work` on this process's shadow thread (the shadow process's child calls
        this too); the challenger is loaded there when not given."""

        def job() -> list[DecisionRecord]:
            loaded = challenger or self._challenger_for(work)
            records = self._make(work.made, loaded, work.positions, Route.SHADOW, _no_lap)
            return [records[i] for i in work.positions]

        def failed(error: Exception) -> ShadowFailure:
            return ShadowFailure(endpoint=work.endpoint, rollout_id=work.rollout_id,
                                 challenger=work.challenger, requests=len(work.positions),
                                 error=repr(error))

        self._local_shadow.offer(job, on_error=failed)

    def _challenger_for(self, work: ShadowWork) -> LoadedEndpoint:
        """The challenger behind the endpoint version, loaded once per endpoint while the
        same pair is asked for."""
        key = (f"{work.endpoint}:{work.endpoint_version}", work.challenger)
        known = self._challengers.get(work.endpoint)
        if known is not None and known[0] == key:
            return known[1]
        with self._metadata.reading() as tx:
            version = tx.endpoints.get(work.endpoint, work.endpoint_version)
        loaded = self._runtime.load_version(version, self._registry.get(work.challenger))
        self._challengers[work.endpoint] = (key, loaded)
        return loaded

    def _shadow_sink(self, items: list[DecisionRecord | ShadowFailure]
                     ) -> Future[list[DecisionRecord]]:
        """Shadow records to the log; failures, per rollout, to the audit trail, where
        the error-rate guardrail counts them."""
        failures: dict[int, list[ShadowFailure]] = {}
        for item in items:
            if isinstance(item, ShadowFailure):
                failures.setdefault(item.rollout_id, []).append(item)
        if failures:
            with self._metadata.transaction() as tx:
                for rollout_id, failed in failures.items():
                    tx.audit.record(SYSTEM.name, SHADOW_FAILED,
                                    f"endpoint:{failed[0].endpoint}", {
                                        "rollout_id": rollout_id,
                                        "challenger": failed[0].challenger,
                                        "requests": sum(f.requests for f in failed),
                                        "last_error": failed[-1].error[:500]})
        return self._log.submit([i for i in items if isinstance(i, DecisionRecord)])

    def _compare_offline(self, records: Sequence[DecisionRecord], refs: dict[str, str],
                         report: VerifyReport) -> None:
        with self._metadata.reading() as tx:
            endpoints = {(r.endpoint, r.endpoint_version) for r in records if r.endpoint}
            entity = {key for name, number in endpoints
                      for key in tx.endpoints.get(str(name), int(number or 0)).spec["entity"]}
        customers = [self._sealer.open(json.loads(r.features_json)["entity_sealed"],
                                       r.decision_id) for r in records]
        rows = pd.DataFrame([{**{k: c.get(k) for k in entity},
                              "event_timestamp": pd.Timestamp(r.decided_at)}
                             for c, r in zip(customers, records, strict=True)])
        rebuilt = self._features.get_historical_features(rows, list(refs.values()))
        compare_features(records, rebuilt, refs, report)

    def _check_caller(self, by: Principal, endpoint: str) -> None:
        """The principal the interface authenticated may decide on this endpoint (checked
        on the principal as authenticated: the hot path reads no user row)."""
        try:
            by.require(Permission.DECISION_MAKE)
            by.require_scope(endpoint)
        except BankmlError as error:
            refuse(self._metadata, by, error, f"endpoint:{endpoint}",
                   permission=Permission.DECISION_MAKE)

    def _check_scope(self, by: Principal, record: DecisionRecord) -> None:
        if record.endpoint is not None:
            try:
                by.require_scope(record.endpoint)
            except BankmlError as error:
                refuse(self._metadata, by, error, f"decision:{record.decision_id}",
                       permission=Permission.DECISION_READ)

    def _online(self, loaded: LoadedEndpoint, requests: Sequence[Mapping[str, Any]],
                ids: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Each request's feature values from the online store, and what was read."""
        if not loaded.features:
            return [{} for _ in requests], [{} for _ in requests]
        entities = [{key: request[key] for key in loaded.endpoint.entity}
                    for request in requests]
        found = self._features.get_online_features(entities, list(loaded.features.values()))
        values, provenance = [], []
        for index, (row, known) in enumerate(zip(found.rows, found.found, strict=True)):
            online = {name: row.get(name) for name in loaded.features}
            defaults = not all(known.values())
            if defaults:
                if loaded.endpoint.missing_entity == MissingEntity.REFUSE:
                    unknown = ", ".join(view for view, flag in known.items() if not flag)
                    where = f"requests[{index}]." if len(requests) > 1 else ""
                    raise InvalidInputError(f"{where}{loaded.endpoint.entity[0]}",
                                            f"{entities[index]} is not in the online store "
                                            f"({unknown}); this endpoint refuses unknown "
                                            "customers", rule="decision.entity_known")
                online = {name: loaded.endpoint.defaults.get(name, value)
                          for name, value in online.items()}
            values.append(online)
            provenance.append({"values": {loaded.features[name]: value
                                          for name, value in online.items()},
                               "found": known, "defaults_used": defaults,
                               "entity_sealed": self._sealer.seal(entities[index],
                                                                  ids[index])})
        return values, provenance

    def _reasons(self, loaded: LoadedEndpoint, scored: Scored,
                 rows: Sequence[Mapping[str, Any]],
                 outcomes: Sequence[Outcome | str]) -> list[list[dict[str, Any]]]:
        """Reason codes for adverse outcomes, each with its explanation's provenance."""
        none: list[list[dict[str, Any]]] = [[] for _ in outcomes]
        explainer, catalogue = loaded.explainer, loaded.catalogue
        if explainer is None or catalogue is None:
            return none
        adverse = [i for i, outcome in enumerate(outcomes)
                   if Outcome(outcome) in loaded.policy.adverse]
        if not adverse:
            return none
        values = scored.contributions(adverse)
        top = loaded.endpoint.reasons.top if loaded.endpoint.reasons else 0
        for position, index in enumerate(adverse):
            contributions = dict(zip(explainer.features, values[position].tolist(),
                                     strict=True))
            none[index] = [
                {"code": r.code, "text": r.text, "contribution": r.contribution}
                for r in adverse_reasons(contributions, catalogue, n=top,
                                         directions=directions_of(rows[index],
                                                                  explainer.reference))]
        return none

    def _record(self, loaded: LoadedEndpoint, request: Mapping[str, Any], by: Principal, *,
                decision_id: str, row: Mapping[Hashable, Any], score: float,
                outcome: Outcome | str,
                reasons: list[dict[str, Any]], online: dict[str, Any],
                received_at: str, decided_at: str, latency_us: int,
                route: Route = Route.CHAMPION, pseudonym: str | None = None) -> DecisionRecord:
        explainer = loaded.explainer
        return DecisionRecord(
            decision_id=decision_id, decided_at=decided_at, received_at=received_at,
            customer_pseudo_id=pseudonym or self._pseudonym(loaded, request),
            endpoint=loaded.version.name, endpoint_version=loaded.version.number,
            model_name=loaded.model_version.name, model_version=loaded.model_version.number,
            artifact_sha256=loaded.model_version.artifact_sha256, route=str(route),
            inputs_json=inputs_json(row),
            request_json=self._request_json(loaded, request),
            features_json=canonical_json(online),
            policy_json=loaded.policy_json,
            score=float(score), outcome=Outcome(outcome),
            reasons_json=canonical_json({} if loaded.catalogue is None or explainer is None
                                        else {"codes": reasons,
                                              "catalogue": loaded.catalogue.name,
                                              "catalogue_sha256": loaded.catalogue.sha256,
                                              "method": str(explainer.method),
                                              "background_sha256": explainer.background.sha256}),
            code_version=self._code_version, latency_us=latency_us,
            schema_version=RECORD_SCHEMA, requested_by=by.name)

    def _pseudonym(self, loaded: LoadedEndpoint, request: Mapping[str, Any]) -> str:
        customer = "|".join(str(request[key]) for key in loaded.endpoint.entity)
        return pseudonymise(customer, self._key)

    @staticmethod
    def _request_json(loaded: LoadedEndpoint, request: Mapping[str, Any]) -> str:
        return canonical_json({k: v for k, v in request.items()
                               if k not in loaded.endpoint.entity})

    def _stages(self, endpoint: str) -> Callable[[str], None]:
        last = [time.perf_counter()]

        def lap(stage: str) -> None:
            now = time.perf_counter()
            self._observe(endpoint, stage, now - last[0])
            last[0] = now
        return lap


@dataclass(frozen=True, slots=True, kw_only=True)
class Made:
    """One call's requests, as every arm that decides some of them needs them."""

    by: Principal
    requests: Sequence[Mapping[str, Any]]
    pseudonyms: list[str]
    received_at: str
    started: float
    many: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowWork:
    """A call's requests that a rollout copies to its challenger: plain data, so that it
    can cross to the shadow process."""

    made: Made
    positions: tuple[int, ...]
    rollout_id: int
    endpoint: str
    endpoint_version: int
    challenger: str  # NAME@VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowFailure:
    """Shadow work the challenger failed: no record, but counted against it."""

    endpoint: str
    rollout_id: int
    challenger: str
    requests: int
    error: str


def _no_lap(_stage: str) -> None:
    return None


def _fields(override: DecisionOverride) -> dict[str, Any]:
    return {name: getattr(override, name) for name in override.__dataclass_fields__}


def inputs_json(row: Mapping[Hashable, object]) -> str:
    """The canonical JSON of the inputs a model saw, which the decision record keeps.

    A missing number (NaN) is written as null, which pandas reads back as NaN when the
    decision is replayed; an infinity has no such form and is refused, rather than a
    different input recorded.
    """
    text = plain_canonical_json(row)  # the usual row: plain values, every number finite
    return canonical_json(to_plain(row, non_finite="missing")) if text is None else text


__all__ = ["REPLAY_TOLERANCE", "DecisionService", "Replay", "reasons_of"]


def _check_proof(tx: Transaction, decision_id: str) -> None:
    """Refuse to replay a record that is not what was committed: made again, it would
    vouch for whatever was written over the original."""
    problems = record_problems(tx, decision_id)
    if problems:
        described = "; ".join(p.problem for p in problems)
        raise IntegrityError(f"Decision {decision_id} is not what was committed, so it is not "
                             f"replayed: {described}. Run `bankml decisions verify`.",
                             rule="decision.proof", field="decision_id")
