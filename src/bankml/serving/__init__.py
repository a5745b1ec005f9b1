"""Decisions in production: endpoints as data, the decision path, its durable log, replay."""

from bankml.core.replay import REPLAY_TOLERANCE, Replay
from bankml.serving.decisions import DecisionService
from bankml.serving.endpoints import Applied, EndpointCatalog
from bankml.serving.log import DecisionLogWriter
from bankml.serving.runtime import LoadedEndpoint, Runtime

__all__ = ["REPLAY_TOLERANCE", "Applied", "DecisionLogWriter", "DecisionService",
           "EndpointCatalog", "LoadedEndpoint", "Replay", "Runtime"]
