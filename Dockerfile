# chat-autotag as a container: `docker build -t chat-autotag .` then
#   docker run --init -p 3000:3000 -v autotag-data:/app/data -e TRUST_PROXY_HOPS=0 chat-autotag
# or `docker compose up` with PostgreSQL (compose.yaml). README → "Docker".

# ---- build: every dependency, compile TypeScript, then drop the dev dependencies
FROM node:26-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts wait until the sources are in (`prepare` compiles them). The native module is built here
# where it is the one loaded: better-sqlite3 12 below Node 24; from 24 on the service loads
# better-sqlite3-napi (13, prebuilt for Node-API, no build), and 12 is never used.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && (node -e "process.exit(Number(process.versions.node.split('.')[0]) >= 24 ? 0 : 1)" || npm rebuild better-sqlite3)
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && chmod 755 dist/cli.js && npm prune --omit=dev --no-audit --no-fund

# ---- run: production dependencies, compiled code and the example rules, as a non-root user
FROM node:26-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data \
    RULES_DIR=/app/rules
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# `prepare` (scripts/prepare.js) runs when `npx autotag …` is used in the container as root: without
# TypeScript it keeps the dist/ built above. As the `node` user npx cannot link the root-owned
# app (it chmods dist/cli.js), so the command is on PATH as `autotag`: `docker exec … autotag status`.
COPY scripts ./scripts
COPY rules ./rules
# The SQLite store (when DATABASE_URL is unset) lives in DATA_DIR: mount a volume there.
RUN mkdir -p /app/data && chown node:node /app/data \
 && ln -s /app/dist/cli.js /usr/local/bin/autotag
USER node
EXPOSE 3000
# Ready = a valid rule set is in force and the store answers. node:slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself (stops taking webhooks, releases its leases, exits 0
# within 10 s); `--init` / compose's `init: true` adds tini in front, which is fine too.
STOPSIGNAL SIGTERM
# The same command as the Procfile's web process and render.yaml's startCommand.
CMD ["node", "--max-old-space-size=192", "dist/cli.js", "serve"]
