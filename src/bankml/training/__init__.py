"""Training: pipeline specs run into registered, reproducible model versions."""

from bankml.training.credit import TrainedModel, train_pd_model
from bankml.training.pipeline import Build, Difference, Reproduction, Trainer
from bankml.training.spec import LoadedSpec, PipelineSpec, load_spec, parse_spec

__all__ = ["Build", "Difference", "LoadedSpec", "PipelineSpec", "Reproduction", "TrainedModel",
           "Trainer", "load_spec", "parse_spec", "train_pd_model"]
