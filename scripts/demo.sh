#!/usr/bin/env bash
# `npm run demo`: a private Docker engine with a few demo containers, volumes (with data) and a
# network, all built offline, and bbackup run against it. Everything is removed on exit, also on
# Ctrl-C. The machine's own Docker engine (/var/run/docker.sock) is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (it starts a private dockerd); try: sudo npm run demo" >&2
  exit 1
fi
bash scripts/install-deps.sh
[ -d node_modules/.bin ] || npm install --no-audit --no-fund

# The TypeScript side cleans up after itself; this trap is the safety net for when it could not
# (killed hard): it stops the private dockerd recorded in the state file, by pid, and removes its dir.
state="$(mktemp /tmp/bbdemo-state.XXXXXX)"
cleanup() {
  local pid dir
  if read -r pid dir <"$state" 2>/dev/null && [ -n "${pid:-}" ]; then
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--data-root $dir/root"; then
      echo "demo: stopping leftover private dockerd (pid $pid)" >&2
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    [ -n "${dir:-}" ] && case "$dir" in /tmp/bbdemo-*) rm -rf "$dir" ;; esac
  fi
  rm -f "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BBDEMO_STATE="$state" node --import tsx scripts/demo/main.ts "$@"
