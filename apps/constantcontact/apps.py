from django.apps import AppConfig


class ConstantContactConfig(AppConfig):
    name = "apps.constantcontact"
    label = "constantcontact"
    verbose_name = "Constant Contact connection"
