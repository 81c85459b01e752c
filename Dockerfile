# Parley's image: one image for every role. The command picks the role:
#   python manage.py serve                                   web + worker in one process (default)
#   python manage.py serve --roles web --host 0.0.0.0        a web node (daphne: HTTP + WebSockets)
#   gunicorn -c deploy/gunicorn.conf.py contact_center.wsgi  an http node (gunicorn: HTTP on port 8001)
#   python manage.py serve --roles worker                    an outbox worker
#   python manage.py migrate --no-input                      schema migrations (run once per upgrade)
# Configuration comes from the environment: docs/configuration.md. Deployment: docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PARLEY_VAR_DIR=/var/lib/parley

WORKDIR /app
COPY . /app

# `pip install .` brings the pinned dependencies; the code runs from /app (manage.py puts its own
# directory first on sys.path, and settings find templates/ relative to it).
# collectstatic needs settings to load, which needs a SECRET_KEY when DEBUG is off: the throwaway
# key below exists only during this RUN and signs nothing. The real one comes at run time.
RUN pip install . \
    && DEBUG=0 SECRET_KEY=collectstatic-at-build-time-signs-nothing-0000 \
       python manage.py collectstatic --no-input -v0 \
    && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin parley \
    && mkdir -p /var/lib/parley/media \
    && chown parley:parley /var/lib/parley /var/lib/parley/media

USER parley
EXPOSE 8000
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
