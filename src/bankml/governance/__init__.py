"""Governance: people, roles and tokens; policies, approvals with four eyes, findings."""

from bankml.governance.identity import Identity
from bankml.governance.oversight import Oversight

__all__ = ["Identity", "Oversight"]
