from django.apps import AppConfig


class MirrorConfig(AppConfig):
    name = "apps.mirror"
    label = "mirror"
    verbose_name = "Constant Contact mirror"

    def ready(self) -> None:
        # The audit screen names targets ("campaign “Spring sale”") through this.
        from apps.mirror import audit_targets  # noqa: F401
