"""Deployment checks for the Constant Contact boundary (`manage.py check --deploy`)."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register

from apps.constantcontact import conf


@register(Tags.security, deploy=True)
def check_token_keys(app_configs, **kwargs):
    keys = conf.fernet_keys()
    if not keys and not settings.DEBUG:
        return [Error(
            "CCADMIN_FERNET_KEYS is not set: Constant Contact tokens can't be stored.",
            hint="Generate one with Fernet.generate_key() and set it in the environment.",
            id="constantcontact.E001",
        )]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return [Error("CCADMIN_FERNET_KEYS holds a value that is not a Fernet key.",
                          id="constantcontact.E002")]
    return []
