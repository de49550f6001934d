# syntax=docker/dockerfile:1

# Build stage: compile and install the pinned dependencies into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# Runtime stage: the virtualenv and the code, no compilers, not root.
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /srv/app
COPY --from=build /opt/venv /opt/venv
# The code stays owned by root: the app user can run it but not change it.
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY docs/tutorial ./docs/tutorial
COPY docs/THREAT_MODEL.md ./docs/
COPY config.py wsgi.py gunicorn.conf.py ./
RUN pybabel compile -d app/translations && mkdir instance && chown app:app instance
USER app
EXPOSE 8000
# Host: localhost, which FLASK_TRUSTED_HOSTS must list (see docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': 'localhost'}), timeout=2)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
