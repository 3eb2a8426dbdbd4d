#!/usr/bin/env bash
# `npm test`: every check, against real parts. Installs the system packages it needs (as root),
# builds, type-checks every file (src, screens, test, bench, scripts), lints (ESLint: the
# architecture's import rules, lost promises), then runs vitest (unit, integration against a real
# Docker engine, TUI in a real pty).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules/.bin ] || npm install --no-audit --no-fund
npm run --silent build
npm run --silent typecheck
npm run --silent lint
# The suite runs the CLI that was just built (test/helpers/cli.ts), as a user would.
export BBACKUP_TEST_CLI=dist
exec npx vitest run "$@"
