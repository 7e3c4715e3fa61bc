# The production image: web (gunicorn), Celery worker and beat all run from it.
# docker-compose.yml builds it; see README.md, "Production".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=ccadmin.settings \
    CCADMIN_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/var/staticfiles

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Every package is
# pinned with its hashes; the lock holds the dev tools too (one lock, one truth).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

RUN groupadd --system ccadmin \
    && useradd --system --gid ccadmin --home-dir /app --no-create-home --shell /usr/sbin/nologin ccadmin \
    && mkdir -p /app/var \
    && chown ccadmin:ccadmin /app/var

COPY . .

# Only var/ (collected static files, Celery beat's schedule) is writable by the app.
USER ccadmin

EXPOSE 8000

# The access log leaves out query strings (OAuth codes): ccadmin/gunicorn_conf.py.
CMD ["gunicorn", "ccadmin.wsgi", "--config", "python:ccadmin.gunicorn_conf", "--bind", "0.0.0.0:8000"]
