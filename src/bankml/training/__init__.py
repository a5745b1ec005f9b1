"""Training: pipeline specs run into registered, reproducible model versions.

`train_pd_model` and `TrainedModel` load scikit-learn with them, so they are imported on
first use: importing the package (as every command does) loads neither.
"""

from typing import TYPE_CHECKING, Any

from bankml.training.pipeline import Build, Difference, Reproduction, Trainer
from bankml.training.spec import LoadedSpec, PipelineSpec, load_spec, parse_spec

if TYPE_CHECKING:
    from bankml.training.credit import TrainedModel, train_pd_model

__all__ = ["Build", "Difference", "LoadedSpec", "PipelineSpec", "Reproduction", "TrainedModel",
           "Trainer", "load_spec", "parse_spec", "train_pd_model"]


def __getattr__(name: str) -> Any:
    if name in ("TrainedModel", "train_pd_model"):
        from bankml.training import credit  # noqa: PLC0415 - scikit-learn loads with it
        return getattr(credit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
