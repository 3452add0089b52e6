# syntax=docker/dockerfile:1
# Saoma provider image: compiled JavaScript on Node 24, production dependencies only, non-root,
# fit for a read-only root filesystem (everything it writes goes to DATA_DIR=/data).
#   docker build -t saoma .
#   docker run --read-only -v saoma-data:/data -p 3000:3000 saoma          # embedded default
# Production (PostgreSQL + Redis, N instances): compose.yaml, deploy/kubernetes/, README "Production".
# test/production/deploy-files.test.ts and scripts/prod-layout.sh keep this file honest.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: this image's Node is the runtime (the node@24 package would download another)
# and Prisma's engine downloads are off anyway; the one script needed, the client, runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund && rm -f node_modules/.bin/node
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY scripts/build.mjs scripts/generate-client.mjs ./scripts/
COPY provider ./provider
RUN npm run db:generate && npm run build

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install script is needed at run time (test/production/deploy-files.test.ts checks the list).
# --omit=optional: what only optional edges reach is Prisma's CLI (an optional peer of
# @prisma/client, ~250 MB with its own dependencies) and TypeScript; the provider needs neither.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/node node_modules/.bin/node \
 && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's own user (uid 1000); /data is the one writable place: embedded database, generated
# keys and the admin socket. Private (0700, as the provider insists); a fresh named volume
# mounted there inherits this owner and mode.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Liveness only (no curl in the image; the script reads PORT, HOST and TLS_* like the provider).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "dist/provider/src/ops/healthcheck.js", "/healthz"]
# node itself as PID 1 (not npm): SIGTERM reaches the provider, which drains and exits.
CMD ["node", "dist/provider/src/main.js"]
