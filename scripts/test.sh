#!/usr/bin/env bash
# `npm test`: the whole suite — build, lint (with Nx module boundaries), type check, and
# every jest test against the real Postgres, file system and Chromium. Ends with one line:
# "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false

bash scripts/ensure-test-deps.sh
# The off-site tests start a throwaway Ceph RGW (scripts/rgw/start.sh); stop it when the suite ends.
trap 'bash scripts/rgw/stop.sh >/dev/null 2>&1 || true' EXIT
echo "== build"; npm run -s build
echo "== lint"; nx show projects >/dev/null && npm run -s lint && npm run -s format:check
echo "== typecheck"; tsc -p tsconfig.json
echo "== tests"
report=$(mktemp)
status=0
jest --ci --json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
rm -f "$report"
exit $status
