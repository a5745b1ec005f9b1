"""Closing the loop: red alerts retrain their model, validate it and deploy it in shadow."""

from bankml.retraining.service import Retrainer

__all__ = ["Retrainer"]
