"""Small typed readers for environment variables that fail loudly on bad values.

Settings come from the environment only (twelve-factor); a typo such as
DJANGO_DEBUG=ture must stop the process at start, not silently mean False.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    number, unit = text[:-1], text[-1:]
    if unit not in _UNIT_SECONDS or not number.isdigit() or int(number) <= 0:
        raise ValueError(text)
    return int(number) * _UNIT_SECONDS[unit]


def env_age_schedule(name: str, default: str) -> tuple[tuple[int, int], ...]:
    """An age-based schedule, "48h=15m,14d=1h,90d=1d": up to 48 hours old, every
    15 minutes; then up to 14 days, hourly; ... Ages must grow. Returns
    ((max_age_seconds, every_seconds), ...); past the last age, never."""
    raw = os.environ.get(name, default)
    steps = []
    try:
        for part in (p.strip() for p in raw.split(",") if p.strip()):
            age, every = (side.strip() for side in part.split("="))
            steps.append((_seconds(age), _seconds(every)))
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must look like 48h=15m,14d=1h,90d=1d (units s, m, h, d), not {raw!r}."
        ) from None
    if not steps or any(b[0] <= a[0] for a, b in zip(steps, steps[1:])):
        raise ImproperlyConfigured(f"{name} needs at least one step, with ages growing: {raw!r}.")
    return tuple(steps)
