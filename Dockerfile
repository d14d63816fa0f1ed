# The official Python image in production. tests/compose build this same file on a base made on the
# machine from Debian's packages and PyPI (docker-compose.local-images.yml: BASE_IMAGE=nexus-local/base),
# whose /opt/venv already holds requirements.txt, so the install below has nothing to fetch there.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files at build time. Placeholder values only satisfy the settings' checks: nothing here
# reaches a database or signs anything.
RUN DJANGO_SETTINGS_MODULE=nexus.settings.production DJANGO_ALLOWED_HOSTS=build \
    DJANGO_SECRET_KEY=collectstatic-only-placeholder-never-used-at-run-time-0000000000 \
    JWT_SIGNING_KEY=collectstatic-only-placeholder-never-used-at-run-time-1111111111 \
    CARD_FINGERPRINT_KEY=collectstatic-only-placeholder-never-used-at-run-time-2222222222 \
    TOTP_ENCRYPTION_KEY=collectstatic-only-placeholder-never-used-at-run-time-3333333333 \
    DATABASE_URL=postgres://build@127.0.0.1:1/build python manage.py collectstatic --no-input -v 0
RUN useradd --create-home nexus && chown -R nexus /app
USER nexus
# 8000: gunicorn (REST, the CMD); 8001: uvicorn for /ws/ (docker-compose.yml's ws service).
EXPOSE 8000 8001
# Only the server: migrations run once per deploy (`python manage.py migrate_locked`, the compose
# file's one-shot "migrate" service), never in every replica's start command.
CMD ["sh", "-c", "exec gunicorn -c gunicorn.conf.py nexus.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-$(( $(nproc) + 1 ))} --access-logfile -"]
