"""Scoring requests into logged decisions, and replaying them."""

from bankml.serving.decisions import DecisionService, Replay

__all__ = ["DecisionService", "Replay"]
