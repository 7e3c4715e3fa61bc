from django.apps import AppConfig


class ConstantContactConfig(AppConfig):
    name = "apps.constantcontact"
    label = "constantcontact"
    verbose_name = "Constant Contact connection"

    def ready(self):
        from apps.constantcontact import agent_jobs  # noqa: F401 - connects Celery signals
        from apps.constantcontact import checks  # noqa: F401 - registers the checks
