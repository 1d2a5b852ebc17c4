# The seedbot GitHub Action: a CUDA build of PyTorch with seedbot on top.
# The base image brings torch, CUDA and cuDNN; every other dependency is pinned
# by requirements.lock, so pip leaves the image's torch in place.
FROM pytorch/pytorch:2.8.0-cuda12.9-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A Docker action cannot pass --gpus to `docker run`. When the runner's Docker uses
# the NVIDIA runtime by default, these variables expose every GPU to the container.
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY seedbot ./seedbot
RUN python -m pip install -c requirements.lock .
COPY entrypoint.py ./

ENTRYPOINT ["python", "/app/entrypoint.py"]
