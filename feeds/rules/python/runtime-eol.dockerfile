# ruleid: python/runtime-eol
FROM python:3.8-slim AS build
# ruleid: python/runtime-eol
FROM --platform=linux/amd64 docker.io/library/python:3.10.14-bookworm
# ruleid: python/runtime-eol
from python:3.9
# ok: python/runtime-eol
FROM python:3.12-slim
# ok: python/runtime-eol
FROM python:3.13.1-alpine AS runtime
# ok: python/runtime-eol
FROM node:18-alpine
# ok: python/runtime-eol
FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim
COPY --from=build /app /app
