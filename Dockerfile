# The prediction service image: runs as an AWS Lambda container image (when Lambda starts it,
# AWS_LAMBDA_RUNTIME_API is set and the runtime interface client serves the Lambda handler) and
# as an HTTP server on $PORT on any container host. Build with `make image` (it passes the args).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# The commit's time (make image passes it): RUN steps that stamp a time use it instead of now.
ARG SOURCE_DATE_EPOCH
# strip (binutils) only in the builder; the runtime image never has it.
# hadolint ignore=DL3008
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
ARG UV_VERSION=0.13.9
# Hash-based bytecode (PEP 552), never checked against the sources: the same bytes on every
# build, and still valid when the build rewrites the files' times (a timestamp .pyc would not be).
ENV UV_COMPILE_BYTECODE=1 \
    PYC_INVALIDATION_MODE=UNCHECKED_HASH \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
# uv in a throw-away venv (system pip may be "externally managed")
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
# Only the project's own dependencies: what inference needs (no pipeline or dev groups), and
# scikit-learn only for a winner packaged as a pickled estimator (models/bento.json's
# serving_format): an XGBoost or linear winner serves without it.
ARG SERVING_FORMAT=pickle
RUN /opt/uv/bin/uv sync --frozen --no-default-groups --group "serving-${SERVING_FORMAT}" \
    --no-install-project
COPY src/ src/
# Dead weight at serve time: libraries' own test suites, C/Cython sources and type stubs (tens of
# MB in scipy, sklearn, numpy), and the debug symbols of extension modules (not of the auditwheel-
# patched libraries in *.libs/: stripping those breaks their alignment).
WORKDIR /opt/venv/lib/python3.11/site-packages
# uv_cache.json (uv's note of when it built the project, for its own re-install checks) is the one
# installed file that holds the build's time: dropped with its RECORD line, so the same commit
# gives the same bytes.
RUN /opt/uv/bin/uv sync --project /src --frozen --no-default-groups \
    --group "serving-${SERVING_FORMAT}" --no-editable \
    && rm modelops-*.dist-info/uv_cache.json \
    && sed -i '/^modelops-[^/]*\.dist-info\/uv_cache\.json,/d' modelops-*.dist-info/RECORD \
    && find . -depth -type d -name tests -not -path "*/sklearn/utils/*" -exec rm -rf {} + \
    && find . -type f \( -name "*.pyx" -o -name "*.pxd" -o -name "*.pxi" -o -name "*.pyi" \
       -o -name "*.c" -o -name "*.cpp" -o -name "*.h" \) -delete \
    && find . -type f -name "*.so" -not -path "*.libs/*" -exec strip --strip-unneeded {} +

FROM ${PYTHON_IMAGE} AS runtime
ARG SOURCE_DATE_EPOCH
# Caddy, the HTTP front in container mode (services/Caddyfile, started by the entrypoint): Debian's
# package. What the install leaves that holds its time (apt's and dpkg's logs, ldconfig's
# aux-cache of file times, dpkg's and debconf's backups) goes, so the same commit gives the same
# bytes; the user its postinst adds gets SOURCE_DATE_EPOCH as its password-change date.
# hadolint ignore=DL3008
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends caddy \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
       /var/log/alternatives.log /var/cache/ldconfig/aux-cache /var/lib/dpkg/*-old \
       /var/cache/debconf/*-old
ARG MODEL_NAME
ARG MODEL_VERSION
ARG MODEL_REGISTRY_VERSION=unknown
ARG GIT_COMMIT=unknown
ARG SOURCE_URL=unknown
LABEL org.opencontainers.image.title="modelops-classifier" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      ai.modelops.model.name="${MODEL_NAME}" \
      ai.modelops.model.version="${MODEL_REGISTRY_VERSION}" \
      ai.modelops.model.tag="${MODEL_NAME}:${MODEL_VERSION}"
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BENTOML_HOME=/app/bentoml_home \
    BENTOML_DO_NOT_TRACK=true \
    MODELOPS_MODEL_TAG="${MODEL_NAME}:${MODEL_VERSION}" \
    PORT=3000
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY services/ services/
# Exactly what the package stage wrote (models/serving/, a DVC output: the serving files and the
# card, the same bytes for the same model), not a BentoML store entry (whose model.yaml holds the
# time it was made). The service and the Lambda handler load it from MODELOPS_MODEL_DIR.
COPY models/serving/ model/
ENV MODELOPS_MODEL_DIR=/app/model
# BentoML creates these at start-up; the service user (and Lambda's read-only file system)
# cannot, so they exist already, and its scratch folder points at the writable /tmp.
RUN mkdir -p bentoml_home/models bentoml_home/bentos bentoml_home/envs \
    && ln -s /tmp bentoml_home/tmp \
    && python -m compileall -q --invalidation-mode unchecked-hash services \
    && chmod 0555 services/entrypoint.sh
USER 10001
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '3000'), timeout=2)"]
ENTRYPOINT ["/app/services/entrypoint.sh"]
