"""Governance: people and their roles, tokens, permissions; approvals come next."""

from bankml.governance.identity import Identity

__all__ = ["Identity"]
