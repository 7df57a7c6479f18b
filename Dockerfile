# One image for every Converge process; docker-compose picks the process by its command
# (`node dist/src/main.js <process>`; `all`, the default, runs every process in one).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY write-model write-model
COPY read-model read-model
COPY migrations migrations
COPY packages packages
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/migrations migrations
COPY bin bin
COPY docker/healthcheck.js docker/healthcheck.js
# The development signing key's folder (a volume shared by the APIs in docker-compose) is the one thing node may write.
RUN mkdir -p .converge && chown node:node .converge
# The node image's unprivileged user; the files stay root-owned, so the process cannot rewrite its own code.
USER node
EXPOSE 3000 3001
# The APIs' /health/ready, or for the processes without HTTP only that they are alive (see the script).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "docker/healthcheck.js"]
# Exec form: node is PID 1, gets SIGTERM itself (main.ts stops cleanly) and is what the health check inspects.
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["all"]
