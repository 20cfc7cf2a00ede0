# syntax=docker/dockerfile:1
# A backend node: the build (`npm run build`, backend/dist/) on Node 22 with production
# dependencies only. The same image runs the operators' CLI:
#   docker run --rm --env-file .env <image> node backend/dist/cli.js operators:list
# No Docker engine runs in CI: deploy/test/image.test.ts builds backend/dist/, carries out this
# file's last stage in a temporary folder and runs its CMD and HEALTHCHECK there.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY shared/package.json shared/
COPY edge/package.json edge/
COPY backend/package.json backend/
COPY dev/package.json dev/
COPY bench/package.json bench/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY scripts scripts
COPY shared shared
COPY backend backend
COPY migrations migrations
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# Heap cap from the upload benchmark (bench/README.md, "Uploads"): with it a node's peak RSS stays
# near 200 MB for CSV of any size; without it V8 lets the heap grow with the run's length.
ENV NODE_OPTIONS=--max-old-space-size=192
WORKDIR /app
# Every workspace's package.json: npm ci checks the lock file against all of them; only the
# backend's dependencies (and those of the shared package it bundles) are installed.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY edge/package.json edge/
COPY backend/package.json backend/
COPY dev/package.json dev/
COPY bench/package.json bench/
# The npm cache is a build cache mount: nothing of it stays in the image.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --workspace=@tether/backend --no-audit --no-fund
COPY --from=build /app/backend/dist backend/dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "backend/dist/main.js"]
