# syntax=docker/dockerfile:1
#
# StudioVault web portal: the static Nuxt SPA served by unprivileged nginx,
# which also reverse-proxies /api, /files (tus uploads) and /metrics to the API.
#
# Build from the repository root:
#   docker build -f docker/web.Dockerfile -t studiovault-web:dev .

ARG NODE_IMAGE=node:24-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.28-alpine

# ---------------------------------------------------------------------------
# manifests: package manifests only, to keep `npm ci` cached (see Dockerfile).
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package-lock.json /manifests/ \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \; \
 && if [ -f .npmrc ]; then cp .npmrc /manifests/; fi

# ---------------------------------------------------------------------------
# build: install everything and produce dist/apps/web/public.
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true NUXT_TELEMETRY_DISABLED=1
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
# `build` compiles the whole repository; a narrower script can be passed with
# --build-arg BUILD_SCRIPT=... once one exists for the portal alone.
ARG BUILD_SCRIPT=build
RUN npm run "${BUILD_SCRIPT}" \
 && test -f dist/apps/web/public/index.html

# ---------------------------------------------------------------------------
# runtime: nginx as UID 101, listening on 8080 (no root, no capabilities).
# ---------------------------------------------------------------------------
FROM ${NGINX_IMAGE} AS runtime

USER root
RUN rm -f /etc/nginx/conf.d/default.conf
USER 101:101

# The config is a template: at start the nginx entrypoint substitutes
# STUDIOVAULT_API_UPSTREAM and the container's DNS resolver
# (NGINX_LOCAL_RESOLVERS) and writes /etc/nginx/conf.d/studiovault.conf.
ENV STUDIOVAULT_API_UPSTREAM=api:3210 \
    NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 \
    NGINX_ENVSUBST_FILTER="^(STUDIOVAULT_|NGINX_LOCAL_RESOLVERS)"

COPY docker/nginx.conf /etc/nginx/templates/studiovault.conf.template
COPY --from=build /app/dist/apps/web/public /usr/share/nginx/html

EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]

LABEL org.opencontainers.image.title="StudioVault web portal" \
      org.opencontainers.image.description="StudioVault portal (static SPA) and reverse proxy to the API" \
      org.opencontainers.image.licenses="AGPL-3.0-only"
