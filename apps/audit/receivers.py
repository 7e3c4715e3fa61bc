"""Audit events for sign-in activity (connected in AuditConfig.ready)."""
