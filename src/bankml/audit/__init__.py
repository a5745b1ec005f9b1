"""Reading and verifying the audit trail."""

from bankml.audit.trail import AuditTrail

__all__ = ["AuditTrail"]
