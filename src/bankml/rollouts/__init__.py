"""Rollouts: deploy a challenger through shadow and canary steps to champion, with
guardrails that roll it back, and the controller that drives running rollouts."""

from bankml.rollouts.controller import Controller
from bankml.rollouts.service import Evaluation, RolloutService

__all__ = ["Controller", "Evaluation", "RolloutService"]
