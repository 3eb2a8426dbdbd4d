# bbackup as a container (README "Running bbackup as a container"), for hosts where operators run
# their tools as images. Build: docker build -t bbackup .
# The tests build the same image offline (test/helpers/app-image.ts): the runtime stage's Debian
# packages from mmdebstrap, Node 20 from the host, and this checkout's dist/ and production
# node_modules; keep the two package lists equal.

FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# install scripts only build test tools (node-pty) and optional speed-ups (ssh2's cpu-features)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# rsync, tar, zstd, gzip: volume copies and archives; busybox-static, libc-bin (ldd): the worker
# image bbackup builds from these binaries; openssh-client: ssh:// engines and SFTP; age, rclone:
# encryption and remotes; libssl3: bbcopy, the copy engine.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      rsync tar zstd gzip busybox-static libc-bin openssh-client age rclone libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/bbackup
COPY --from=build /src/package.json ./
COPY --from=build /src/assets ./assets
COPY --from=build /src/dist ./dist
COPY --from=build /src/node_modules ./node_modules
# the config is looked for at /etc/bbackup/config.yaml (mount it read-only there)
ENTRYPOINT ["node", "/opt/bbackup/dist/src/cli/bbackup.cjs"]
CMD ["--help"]
