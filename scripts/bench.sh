#!/usr/bin/env bash
# `npm run bench` (not a test): runs each bench listed below and prints one table of every
# result. A bench prints `BENCH {json}` lines (see bench/lib.ts); other output is progress.
# Add a bench with ONE line in BENCHES. BENCH_SIZES=1 makes the backup bench quick (1 GiB only);
# BENCH_ONLY=backup runs only the benches whose path contains "backup".
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHES=(
  bench/backup.ts
  bench/tui.ts
  bench/upload.ts
  bench/archive-scan.ts
)

# The whole run is one function, parsed before it starts: an edit of this file during a run
# (bash otherwise reads scripts as it goes) cannot break the run.
main() {
# benches run the built engine (dist/), as an installed bbackup runs
npm run --silent build >/dev/null || echo "bench: build reported errors (see npm run build); using what it emitted"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for b in "${BENCHES[@]}"; do
  # BENCH_ONLY=backup runs just the benches whose path contains it
  [[ -n "${BENCH_ONLY:-}" && "$b" != *"$BENCH_ONLY"* ]] && continue
  echo "== $b"
  node --import tsx "$b" | while IFS= read -r line; do
    if [[ "$line" == BENCH\ * ]]; then echo "${line#BENCH }" >> "$results"; else echo "$line"; fi
  done
done

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const cols = [["bench", (r) => r.bench], ["case", (r) => r.case], ["bbackup", (r) => `${r.value} ${r.unit}`],
  ["bare tool", (r) => (r.baseline === undefined ? "" : `${r.baseline} ${r.unit}`)], ["ratio", (r) => (r.ratio === undefined ? "" : `${r.ratio}x`)],
  ["target", (r) => r.target], ["", (r) => (r.pass ? "ok" : "MISSED")], ["note", (r) => r.note ?? ""]];
const cells = rows.map((r) => cols.map(([, f]) => String(f(r))));
const w = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (v) => "| " + v.map((x, i) => x.padEnd(w[i])).join(" | ") + " |";
console.log("\n" + line(cols.map(([h]) => h)));
console.log("|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|");
for (const c of cells) console.log(line(c));
' "$results"
}
main "$@"; exit $?
