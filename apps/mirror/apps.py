from django.apps import AppConfig


class MirrorConfig(AppConfig):
    name = "apps.mirror"
    label = "mirror"
    verbose_name = "Constant Contact mirror"
