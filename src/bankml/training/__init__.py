"""Training models from data: the first slice, a scikit-learn PD model."""

from bankml.training.credit import TrainedModel, train_pd_model

__all__ = ["TrainedModel", "train_pd_model"]
