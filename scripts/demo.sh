#!/usr/bin/env bash
# `npm run demo`: a private Docker engine with demo containers, volumes (with data) and a network,
# all built offline, a throwaway sshd and age identity for two offline remotes, and bbackup run
# against it (scripts/demo/main.ts). Everything is removed on exit, also on Ctrl-C and SIGTERM. The
# machine's own Docker engine (/var/run/docker.sock) is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (it starts a private dockerd); try: sudo npm run demo" >&2
  exit 1
fi
bash scripts/install-deps.sh
[ -d node_modules/.bin ] || npm install --no-audit --no-fund

# The TypeScript side cleans up after itself; this trap is the safety net for when it could not
# (killed hard). The state file lists what it started, one per line: "pid PID MARKER" (dockerd, sshd,
# bbackup daemon; stopped by pid only when MARKER is in that pid's command line, so a reused pid is
# never hit) and "dir DIR" (its temp folders, removed only under /tmp/bbdemo-*).
state="$(mktemp /tmp/bbdemo-state.XXXXXX)"
cleanup() {
  local kind a b
  while read -r kind a b; do
    [ "$kind" = pid ] || continue
    if { tr '\0' ' ' <"/proc/$a/cmdline"; } 2>/dev/null | grep -qF -- "$b"; then
      echo "demo: stopping leftover pid $a ($b)" >&2
      kill -TERM "$a" 2>/dev/null || true
      for _ in $(seq 1 100); do [ -e "/proc/$a" ] || break; sleep 0.2; done
      kill -KILL "$a" 2>/dev/null || true
    fi
  done <"$state"
  while read -r kind a b; do
    [ "$kind" = dir ] || continue
    case "$a" in /tmp/bbdemo-*) rm -rf "$a" ;; esac
  done <"$state"
  rm -f "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

BBDEMO_STATE="$state" node --import tsx scripts/demo/main.ts "$@"
