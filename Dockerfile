# syntax=docker/dockerfile:1
#
# Parley's image: one image for every process, chosen by its command (bin/parley.mjs):
#   docker run parley                  everything in one process (npm start's embedded mode)
#   docker run parley account          the account service alone; likewise idgen, chat,
#                                      presence, notify, discovery, gateway
# Configured by environment variables only (README, "Configuration"). It runs as UID 10001 and
# writes only to DATA_DIR (/data, a volume), so it runs with a read-only root filesystem.
# No HEALTHCHECK: Kubernetes probes the pods itself. Every port serves grpc.health.v1.Health and
# GET /healthz (200 while serving, 503 while draining); the public API's is on PORT (8080).
#
# scripts/image-recipe.sh replays this file's build steps without a Docker engine (CI runs it),
# so keep it to what the recipe parses: one instruction per line (no continuations), FROM with
# AS, WORKDIR, ENV key=value, COPY [--from=stage] [--chown=uid:gid] without globs, and RUN
# lines (shell form) whose paths are relative to WORKDIR.

# Build: every dependency, then the compiled output (npm run build: tsc -b into each workspace's
# dist/, and the web app's bundle into apps/web/dist).
FROM node:24-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
RUN npm run build
# The runtime tree in release/: the launcher, the lockfile, each workspace's package.json and dist/
# (no sources; apps/web/dist is the web app's bundle, which npm run build makes with esbuild), then production dependencies only: no TypeScript, tsx, Biome or buf, and not the
# Node that the devDependency "node" pins for development (the runtime image's own Node 24 runs it).
RUN mkdir -p release volume && cp -R --parents package.json package-lock.json bin packages/*/package.json packages/*/dist services/*/package.json services/*/dist gateway/package.json gateway/dist apps/*/package.json apps/*/dist release/
WORKDIR /app/release
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime: Node 24, the release tree, an empty DATA_DIR owned by the service user.
FROM node:24-slim AS runtime
# npm start's young-generation cap (README, "Speed"): it bounds memory per connection; override
# NODE_OPTIONS to change it for a process.
ENV NODE_ENV=production DATA_DIR=/data NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY --from=build /app/release/ ./
COPY --from=build --chown=10001:10001 /app/volume/ /data/
USER 10001:10001
VOLUME /data
# 8080: the public API and WebSocket (gateway, standalone); 7001-7007: account, idgen, chat,
# the gateway's DeliverService, presence, notify, discovery.
EXPOSE 8080 7001 7002 7003 7004 7005 7006 7007
ENTRYPOINT ["node", "bin/parley.mjs"]
CMD ["standalone"]
