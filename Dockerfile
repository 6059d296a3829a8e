# syntax=docker/dockerfile:1
# Hallserver image: one daphne process per container (see docker-compose.yml).
#   docker build -t hallserver .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HALLSERVER_DATA_DIR=/srv/data \
    HALLSERVER_STATIC_ROOT=/srv/static

# A fixed uid/gid, so that volume ownership is predictable.
RUN groupadd --system --gid 10001 hallserver \
    && useradd --system --uid 10001 --gid hallserver --home-dir /srv/data --no-create-home \
        --shell /usr/sbin/nologin hallserver \
    && mkdir -p /srv/data /srv/static /srv/media \
    && chown hallserver:hallserver /srv/data /srv/static /srv/media

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself. It is installed in place (-e): settings.py finds the browser UI in
# frontend/ next to the packages, which a plain wheel install would leave behind.
COPY . .
RUN pip install --no-deps -e . \
    && python -m compileall -q hallserver booths streaming

USER hallserver
EXPOSE 8000
CMD ["hallserver", "serve", "--host", "0.0.0.0", "--port", "8000"]
