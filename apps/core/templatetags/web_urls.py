"""`{{ value|web_url }}`: the value when it is an http(s) URL, else "" (apps.core.weburls)."""

from django import template

from apps.core.weburls import web_url as _web_url

register = template.Library()


@register.filter
def web_url(value) -> str:
    return _web_url(value)
