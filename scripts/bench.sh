#!/usr/bin/env bash
# `npm run bench` (not a test): runs each bench listed below and prints one table of every
# result, and writes the same rows as JSON (BENCH_JSON, default bench/results.json) with the date
# and the load average they ran under. A bench prints `BENCH {json}` lines (see bench/lib.ts);
# other output is progress. The engine is DOCKER_HOST, else BBACKUP_TEST_DOCKER_HOST, else the
# system socket (bench Docker objects are named bbt-*-bench-* and removed after).
# Add a bench with ONE line in BENCHES. BENCH_SIZES=1 makes the backup bench quick (1 GiB only);
# BENCH_ONLY=backup runs only the benches whose path matches (a regex: BENCH_ONLY="startup|backup").
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHES=(
  bench/startup.ts
  bench/backup.ts
  bench/tui.ts
  bench/upload.ts
  bench/upload-repo.ts
  bench/archive-scan.ts
  bench/scale.ts
)

# The whole run is one function, parsed before it starts: an edit of this file during a run
# (bash otherwise reads scripts as it goes) cannot break the run.
main() {
# benches run the built engine (dist/), as an installed bbackup runs
npm run --silent build >/dev/null || echo "bench: build reported errors (see npm run build); using what it emitted"

export DOCKER_HOST="${DOCKER_HOST:-${BBACKUP_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}}"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for b in "${BENCHES[@]}"; do
  # BENCH_ONLY=backup runs just the benches whose path contains it
  [[ -n "${BENCH_ONLY:-}" && ! "$b" =~ $BENCH_ONLY ]] && continue
  echo "== $b"
  node --import tsx "$b" | while IFS= read -r line; do
    if [[ "$line" == BENCH\ * ]]; then echo "${line#BENCH }" >> "$results"; else echo "$line"; fi
  done
done

node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { table } from "./bench/table.mjs";
const [results, out, before] = process.argv.slice(1);
const rows = readFileSync(results, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
console.log("\n" + table(rows));
const after = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadavg: { before, after }, cores: cpus().length, rows }, null, 2) + "\n");
console.log(`\nload average ${before} before, ${after} after; written to ${out} (node bench/table.mjs ${out} prints this table for the README)`);
' "$results" "${BENCH_JSON:-bench/results.json}" "$load_before"
}
main "$@"; exit $?
