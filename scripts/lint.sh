#!/usr/bin/env bash
# npm run lint: ESLint (type-aware on src/ and screens/, plain on the rest) and the Prettier check,
# side by side (two processes: the machine's cores, not one after the other). Both keep a content
# cache in node_modules/.cache, so a warm run reads only changed files. Fails when either fails.
set -u
cd "$(dirname "$0")/.."
npx eslint --cache --cache-strategy content --cache-location node_modules/.cache/eslint/ "$@" . &
eslint=$!
npx prettier --check --cache --cache-location node_modules/.cache/prettier/.prettier-cache --log-level warn . &
prettier=$!
status=0
wait "$eslint" || status=1
wait "$prettier" || status=1
exit "$status"
