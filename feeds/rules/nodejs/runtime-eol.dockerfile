# ruleid: nodejs/runtime-eol
FROM node:18-alpine AS deps
# ruleid: nodejs/runtime-eol
FROM --platform=$BUILDPLATFORM node:20.11.1-bookworm-slim AS build
# ruleid: nodejs/runtime-eol
FROM node:hydrogen
# ok: nodejs/runtime-eol
FROM node:22-alpine AS runtime
# ok: nodejs/runtime-eol
FROM node:24.11.1-bookworm-slim
# ok: nodejs/runtime-eol
FROM python:3.12-slim
COPY --from=build /app /app
