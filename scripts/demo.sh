#!/usr/bin/env bash
# `npm run demo [-- MODE]`: try Pilot on this machine, no cloud account needed.
#
#   aws (default)  the AWS stack in moto (AWS's API, mocked in Python) on
#                  127.0.0.1: pilot up-server, a no-op re-run, status and
#                  teardown, then moto is stopped and everything removed.
#
# Installs the npm dependencies if missing, builds, and creates a Python venv
# with moto[server] on first use ($PILOT_MOTO_VENV, default .venv/moto, the
# same one the test tiers use). Every file it writes lives in a temporary
# folder that is removed on exit, even on failure or Ctrl-C; nothing talks to
# real AWS (every client is pointed at moto, with throwaway credentials).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

mode="${1:-aws}"
case "$mode" in
  aws) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    echo "demo: unknown mode \"$mode\" (modes: aws)" >&2
    exit 2
    ;;
esac

step=0
STEPS=8
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() {
  step=$((step + 1))
  printf '\n%s[%d/%d] %s%s\n' "$bold" "$step" "$STEPS" "$*" "$plain"
}
run() {
  printf '  $ %s\n' "$*"
  "$@"
}
die() {
  echo "demo: $*" >&2
  exit 1
}

workdir=""
moto_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$moto_pid" ] && kill -0 "$moto_pid" 2>/dev/null; then
    echo "demo: stopping moto (pid $moto_pid)"
    kill "$moto_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$moto_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$moto_pid" 2>/dev/null || true
  fi
  if [ -n "$workdir" ]; then
    if [ $status -ne 0 ] && [ -f "$workdir/moto.log" ]; then
      echo "demo: failed (exit $status); the last lines of moto's log:" >&2
      tail -n 15 "$workdir/moto.log" >&2 || true
    fi
    rm -rf "$workdir"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- prerequisites ---------------------------------------------------------
command -v node >/dev/null 2>&1 || die "Node.js 20 or later is needed (https://nodejs.org)."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js 20 or later is needed; this is $(node --version)."

say "Installing npm dependencies (skipped when present)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  run npm ci --no-audit --no-fund
else
  echo "  node_modules is up to date"
fi

say "Building the CLI (dist/cli.js)"
run npm run --silent build
pilot() {
  printf '  $ pilot %s\n' "$*"
  node "$ROOT/dist/cli.js" "$@"
}

say "Preparing moto (AWS's API, mocked) in a Python venv"
venv="${PILOT_MOTO_VENV:-.venv/moto}"
if [ ! -x "$venv/bin/moto_server" ]; then
  command -v python3 >/dev/null 2>&1 || die "python3 is needed for moto (apt-get install python3 python3-venv)."
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3's venv module is missing (apt-get install python3-venv)."
  echo "  creating $venv with moto[server] (once; a minute or two)"
  run python3 -m venv "$venv"
  run "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]"
else
  echo "  using $venv"
fi

say "Starting moto on 127.0.0.1"
workdir="$(mktemp -d "${TMPDIR:-/tmp}/pilot-demo.XXXXXX")"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# moto's built-in image list has no Ubuntu 24.04: serve Canonical-owned noble images (the same
# file the tests use), so Pilot looks its AMI up exactly as on real AWS.
MOTO_AMIS_PATH="$ROOT/scripts/moto-amis.json" "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$workdir/moto.log" 2>&1 &
moto_pid=$!
endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  kill -0 "$moto_pid" 2>/dev/null || die "moto exited before answering."
  if node -e 'fetch(process.argv[1]).then(r=>r.arrayBuffer()).then(()=>process.exit(0),()=>process.exit(1))' "$endpoint/moto-api/" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
node -e 'fetch(process.argv[1]).then(()=>process.exit(0),()=>process.exit(1))' "$endpoint/moto-api/" 2>/dev/null || die "moto did not answer on $endpoint within 60 s."
echo "  moto is answering on $endpoint (pid $moto_pid)"

# Every AWS client goes to moto, with throwaway credentials; nothing of the caller's AWS setup is used.
for var in $(compgen -e | grep -E '^AWS_' || true); do unset "$var"; done
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_SHARED_CREDENTIALS_FILE="$workdir/aws-credentials" AWS_CONFIG_FILE="$workdir/aws-config" AWS_EC2_METADATA_DISABLED=true
: >"$AWS_SHARED_CREDENTIALS_FILE"
: >"$AWS_CONFIG_FILE"
# Pilot's own files (state, SSH key) go to a throwaway PILOT_HOME.
export PILOT_HOME="$workdir/pilot-home"
echo "  AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL  PILOT_HOME=$PILOT_HOME"

say "Creating the Pilot server stack (VPC, subnets, security groups, EC2, Elastic IP, IAM, RDS)"
echo "  (--skip-bootstrap: moto's VM is not a real machine to SSH into)"
pilot up-server --name demo --provider aws --region us-east-1 --allow-cidr 127.0.0.1/32 --skip-bootstrap

say "Running it again: nothing changes, every resource is kept"
pilot up-server --name demo --skip-bootstrap

say "Status: each resource compared with what AWS (moto) reports"
pilot status --name demo

say "Tearing it all down"
pilot teardown --name demo --yes --skip-final-snapshot

printf '\n%sDone.%s Against a real account: pilot up-server --provider aws --region REGION (see README.md).\n' "$bold" "$plain"
