#!/usr/bin/env bash
# `npm test`: every test, against real parts. Installs the system packages it needs (as root),
# builds, then runs vitest (unit, integration against a real Docker engine, TUI in a real pty).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules/.bin ] || npm install --no-audit --no-fund
npm run --silent build
exec npx vitest run "$@"
