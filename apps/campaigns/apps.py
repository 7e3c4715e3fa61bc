from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "apps.campaigns"
    label = "campaigns"
    verbose_name = "Email campaigns"

    def ready(self) -> None:
        # Starts the first campaigns sync once a workspace is connected.
        from apps.campaigns import receivers  # noqa: F401
