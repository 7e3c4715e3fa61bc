"""ccadmin: a team dashboard over the Constant Contact V3 API."""

from .celery import app as celery_app

__all__ = ["celery_app"]
