"""The weekly production model review: the week's evidence of every production model,
gathered from monitoring, alerts, rollouts, decisions and governance, rendered and kept."""

from bankml.review.weekly import WeeklyReviews, WrittenReport

__all__ = ["WeeklyReviews", "WrittenReport"]
