# One image for the geulssi API, worker and migration job (docker-compose.yml picks the command).
# torch comes from PyPI with its CUDA libraries: the worker uses the GPU when the container is given one
# (NVIDIA container toolkit), and the CPU otherwise.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GEULSSI_STORAGE_DIR=/data/artifacts GEULSSI_HOST=0.0.0.0

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config libpotrace-dev libagg-dev fonts-nanum fonts-noto-cjk curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first (cached unless pyproject.toml or the constraints change); torch pinned like .ci/install.
COPY pyproject.toml README.md ./
COPY .ci/constraints.txt .ci/
RUN pip install "torch==2.13.0" \
 && mkdir -p services models templates \
 && touch services/__init__.py models/__init__.py templates/__init__.py \
 && pip install -c .ci/constraints.txt . && pip uninstall -y geulssi
COPY . .
# Editable, so the code runs from /app next to migrations/ (geulssi migrate reads them there).
RUN pip install --no-deps -e . \
 && useradd --create-home --uid 1000 geulssi \
 && mkdir -p /data/artifacts && chown -R geulssi /data /app
USER geulssi

EXPOSE 8000
CMD ["geulssi", "api"]
