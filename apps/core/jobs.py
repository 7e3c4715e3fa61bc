"""Queuing Celery work by task name.

A service that starts a job names its task ("contacts.sync") instead of
importing the tasks module, which imports the service: that would be a circle.
`CoreConfig.ready` registers every app's tasks in every process, so the name
resolves to the task itself — and in eager mode (the tests) it runs in place.
"""

from typing import Any

from celery import current_app
from celery.result import AsyncResult


def enqueue(task_name: str, *, queue: str, args: tuple = (),
            kwargs: dict[str, Any] | None = None) -> AsyncResult:
    return current_app.signature(
        task_name, args=args, kwargs=kwargs or {}, queue=queue
    ).apply_async()
