#!/usr/bin/env bash
# The whole test suite, as CI runs it: services, build, stand-in images, then
# the three tiers in order (unit, integration against moto, e2e against sshd
# and dockerd). Prints one closing line "tests: N passed, N failed, N skipped".
# `npm test -- unit` (or integration, e2e) runs one tier.
set -uo pipefail
cd "$(dirname "$0")/.."

tiers=("${@:-unit integration e2e}")
read -r -a tiers <<<"${tiers[*]}"

set -e
[ -d node_modules ] || npm ci --no-audit --no-fund
if [[ " ${tiers[*]} " != " unit " ]]; then bash scripts/services.sh; fi
npm run --silent build
if [[ " ${tiers[*]} " == *" e2e "* ]]; then bash scripts/standin-build.sh >/dev/null; fi
set +e

mkdir -p .pilot-test
status=0
reports=()
for tier in "${tiers[@]}"; do
  echo "== $tier tests ==" >&2
  npx vitest run --project "$tier" --reporter=default --reporter=json --outputFile.json=".pilot-test/$tier.json" || status=1
  reports+=(".pilot-test/$tier.json")
done

node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    try {
      const r = JSON.parse(require("fs").readFileSync(f, "utf8"));
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests || 0);
      if (!r.success && r.numFailedTests === 0) failed += 1; // a file that failed to load counts
    } catch { failed += 1; console.error("no report: " + f); }
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "${reports[@]}"
exit $status
