# One image for every role: all-in-one (the default CMD), one module per container, or the migrator.
#   docker build -t homeiq-ai:latest .
FROM python:3.11-slim

# torch comes from PyTorch's CPU index: the default index would pull several GB of CUDA wheels.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group homeiq

WORKDIR /app

# Its own layer before the source, so that a code change does not reinstall torch.
RUN pip install --no-cache-dir torch==2.13.0 --index-url "${TORCH_INDEX_URL}"

COPY . /app
# Every dependency at the version the tests ran against (requirements.lock, written by scripts/lock.sh).
RUN pip install --no-cache-dir -c requirements.lock '.[training]' \
    && mkdir -p /app/data \
    && chown -R homeiq:homeiq /app/data

ENV HOST=0.0.0.0 \
    HOMEIQ_DATA_DIR=/app/data

USER homeiq
VOLUME /app/data
EXPOSE 8000 8016 8017 8018 8021

# PORT is set per role (compose.split.yml); the all-in-one process listens on 8000 by default.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)" "http://127.0.0.1:${PORT:-8000}/health/ready" || exit 1

CMD ["homeiq-ai", "serve", "--modules", "all", "--upgrade-db"]
