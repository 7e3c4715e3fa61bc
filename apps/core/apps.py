from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # Register every app's Celery tasks in this process too, as a worker does
        # when it starts: services queue jobs by task name (apps.core.jobs), and an
        # eager run (the tests) must find the task to run it in place.
        from celery.loaders.base import autodiscover_tasks

        autodiscover_tasks([config.name for config in apps.get_app_configs()])
