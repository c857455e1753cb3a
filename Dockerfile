# syntax=docker/dockerfile:1
# Cache Forge: one stateless replica. Build: docker build -t cacheforge .
# Run:   docker run -p 8080:8080 -v ./cacheforge.yaml:/etc/cacheforge/cacheforge.yaml:ro cacheforge
# (NOTE: not built on the development machine, which has no Docker engine; see README "Scale-out".)

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source where no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g pnpm@10
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.json tsconfig.base.json ./
COPY packages ./packages
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && rm -rf node_modules packages/*/node_modules \
 && CI=true pnpm install --frozen-lockfile --prod --ignore-scripts \
 && pnpm rebuild better-sqlite3

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /src /app
# Embedded defaults keep their data under /app/data; scale-out configs keep none (S3 + PostgreSQL + Redis).
RUN mkdir -p /app/data /etc/cacheforge && chown node:node /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/-/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/packages/core/bin/cacheforge.js"]
CMD ["start", "--config", "/etc/cacheforge/cacheforge.yaml"]
