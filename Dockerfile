# octi-tanium: the reconciler image. Build: docker build -t octi-tanium .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
# Only the product: without sandbox/ in the context, setuptools finds no octi_sandbox, and
# `pip install .` (no extras) leaves the emulators' dependencies out of the image too.
COPY controller ./controller
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 octi
COPY --from=build /install /usr/local
WORKDIR /home/octi
COPY desired ./desired
USER octi
ENV OCTI_TANIUM_STATE_DIR=/home/octi/.octi-tanium \
    PYTHONUNBUFFERED=1
EXPOSE 9464
ENTRYPOINT ["octi-tanium"]
CMD ["run", "--listen", "0.0.0.0:9464"]
