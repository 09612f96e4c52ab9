# octi-tanium: the reconciler image. Build: docker build -t octi-tanium .
#
# No policies are baked in: `run` refuses to start until a policies directory is mounted at
# /policies (or OCTI_TANIUM_POLICIES points elsewhere) — an image that selected everything by
# default would sync all of OpenCTI for an operator who forgot the mount.
# Runs as a non-root user and supports a read-only root filesystem: the only directory written
# is OCTI_TANIUM_STATE_DIR (the file lock), /var/lib/octi-tanium — mount a volume or an
# emptyDir there, or use OCTI_TANIUM_LOCK_URL (Redis, PostgreSQL) and write nothing at all.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
# Only the product: without sandbox/ in the context, setuptools finds no octi_sandbox, and
# `pip install .` (no extras) leaves the emulators' dependencies out of the image too.
COPY controller ./controller
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --no-create-home --home-dir /nonexistent --uid 10001 --user-group octi \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/octi-tanium \
    && install -d -m 0755 /policies
COPY --from=build /install /usr/local
WORKDIR /var/lib/octi-tanium
USER 10001:10001
ENV OCTI_TANIUM_STATE_DIR=/var/lib/octi-tanium \
    OCTI_TANIUM_POLICIES=/policies \
    HOME=/var/lib/octi-tanium \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
VOLUME ["/var/lib/octi-tanium"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["octi-tanium"]
CMD ["run", "--listen", "0.0.0.0:9464"]
