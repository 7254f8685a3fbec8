#!/usr/bin/env bash
# `npm run bench [help|walk|noop-rerun|bootstrap|gcp|apps|terraform|faults ...]`: builds, makes sure the
# services the macro benchmarks need are up, and prints the figures that
# BENCHMARKS.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
if [ $# -eq 0 ] || [[ " $* " == *" noop-rerun "* || " $* " == *" bootstrap "* || " $* " == *" gcp "* || " $* " == *" apps "* || " $* " == *" terraform "* || " $* " == *" faults "* ]]; then bash scripts/services.sh; fi
exec npx tsx bench/run.ts "$@"
