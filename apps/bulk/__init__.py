"""Bulk jobs: imports, exports, list and tag changes and deletes run in Celery as
a BulkJob row the screens poll (see apps/bulk/services/runner.py)."""
