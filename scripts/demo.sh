#!/usr/bin/env bash
# `npm run demo [-- MODE]`: try Pilot on this machine, no cloud account needed.
#
#   local (default)  the Pilot server on this machine's Docker engine: up-server,
#                    a no-op re-run, status, teardown. Uses the real Waypoint and
#                    PostgreSQL images when Docker can get them, else the real Waypoint built
#                    from its Go module and PostgreSQL from Debian's package.
#   aws              the AWS stack in moto (AWS's API, mocked in Python) on
#                    127.0.0.1: pilot up-server, a no-op re-run, status and
#                    teardown, then moto is stopped and everything removed.
#   gcp              the GCP stack against Pilot's GCP fake on 127.0.0.1 (it
#                    checks every request against Google's own API schemas):
#                    the same steps, with the APIs a new project lacks enabled
#                    by --enable-apis.
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
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

mode="${1:-local}"
case "$mode" in
  aws | gcp | local) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    echo "demo: unknown mode \"$mode\" (modes: local, aws, gcp)" >&2
    exit 2
    ;;
esac

step=0
if [ "$mode" = local ]; then STEPS=9; else STEPS=8; fi
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
fake_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$fake_pid" ] && kill -0 "$fake_pid" 2>/dev/null; then
    echo "demo: stopping the GCP fake (pid $fake_pid)"
    kill "$fake_pid" 2>/dev/null || true
  fi
  if [ -n "$moto_pid" ] && kill -0 "$moto_pid" 2>/dev/null; then
    echo "demo: stopping moto (pid $moto_pid)"
    kill "$moto_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$moto_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$moto_pid" 2>/dev/null || true
  fi
  # A local demo stopped half-way leaves containers on the user's engine: take them down.
  if [ "$mode" = local ] && [ $status -ne 0 ] && [ -n "$workdir" ] && [ -f "$workdir/pilot-home/stacks/demo/state.json" ]; then
    echo "demo: removing the half-made demo stack" >&2
    node "$ROOT/dist/cli.js" teardown --name demo --yes >/dev/null 2>&1 || true
  fi
  if [ -n "$workdir" ]; then
    if [ $status -ne 0 ] && [ -f "$workdir/moto.log" ]; then
      echo "demo: failed (exit $status); the last lines of moto's log:" >&2
      tail -n 15 "$workdir/moto.log" >&2 || true
    fi
    if [ $status -ne 0 ] && [ -f "$workdir/fake.log" ]; then
      echo "demo: failed (exit $status); the last lines of the GCP fake's log:" >&2
      tail -n 15 "$workdir/fake.log" >&2 || true
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
  printf '  $ pilot %s\n' "$*" >&2
  node "$ROOT/dist/cli.js" "$@"
}

demo_aws() {
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
}

demo_gcp() {
  say "Preparing Google's API schemas (google-api-python-client in a Python venv)"
  venv="${PILOT_MOTO_VENV:-.venv/moto}"
  if ! "$venv/bin/python" -c 'import googleapiclient' 2>/dev/null; then
    command -v python3 >/dev/null 2>&1 || die "python3 is needed for the GCP fake's schemas (apt-get install python3 python3-venv)."
    python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3's venv module is missing (apt-get install python3-venv)."
    [ -x "$venv/bin/python" ] || run python3 -m venv "$venv"
    run "$venv/bin/pip" install -q --disable-pip-version-check google-api-python-client
  else
    echo "  using $venv"
  fi

  say "Starting the GCP fake on 127.0.0.1"
  workdir="$(mktemp -d "${TMPDIR:-/tmp}/pilot-demo.XXXXXX")"
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  # Operations take 0.3 s here (Cloud SQL 2 s), so the progress view has something to show.
  npx tsx test/fakes/gcp/main.ts --port "$port" --project pilot-demo --latency 300 --latency-for sqladmin.instances=2000 >"$workdir/fake.log" 2>&1 &
  fake_pid=$!
  endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    kill -0 "$fake_pid" 2>/dev/null || die "the GCP fake exited before answering."
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$endpoint/__fake/health" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "  the GCP fake is answering on $endpoint (pid $fake_pid)"

  # Every Google API goes to the fake; with every endpoint on loopback Pilot uses no credentials.
  for var in $(compgen -e | grep -E '^(GOOGLE_|CLOUDSDK_)' || true); do unset "$var"; done
  export PILOT_GCP_ENDPOINT="$endpoint" PILOT_HOME="$workdir/pilot-home"
  echo "  PILOT_GCP_ENDPOINT=$PILOT_GCP_ENDPOINT  PILOT_HOME=$PILOT_HOME"

  say "Creating the Pilot server stack (network, firewall, address, Cloud SQL, VPC connector, service account, VM)"
  echo "  (--skip-bootstrap: the fake's VM is not a real machine to SSH into)"
  pilot up-server --name demo --provider gcp --project pilot-demo --region europe-west1 --allow-cidr 127.0.0.1/32 --enable-apis --skip-bootstrap

  say "Running it again: nothing changes, every resource is kept"
  pilot up-server --name demo --skip-bootstrap

  say "Status: each resource compared with what Google (the fake) reports"
  pilot status --name demo

  say "Tearing it all down"
  pilot teardown --name demo --yes --skip-final-snapshot

  printf '\n%sDone.%s Against a real project: pilot up-server --provider gcp --project PROJECT --region REGION (see README.md).\n' "$bold" "$plain"
}

demo_local() {
  say "Checking the Docker engine"
  if ! docker info >/dev/null 2>&1; then
    # A fresh machine: scripts/services.sh installs and starts Debian's docker.io (as root).
    [ "$(id -u)" -eq 0 ] || die "no Docker engine answers; start Docker (or run \`npm run demo -- aws\`)."
    run bash scripts/services.sh
  fi
  echo "  Docker $(docker version --format '{{.Server.Version}}') is answering"

  say "Getting the Waypoint and PostgreSQL images"
  waypoint_image="hashicorp/waypoint:0.11.4"
  postgres_image="postgres:16"
  have_image() { docker image inspect "$1" >/dev/null 2>&1 || timeout 120 docker pull -q "$1" >/dev/null 2>&1; }
  if have_image "$waypoint_image"; then
    echo "  Waypoint: $waypoint_image (from the registry)"
  else
    # No registry in reach (as on air-gapped or CI machines): the real Waypoint, built from its
    # Go module through the Go module proxy (about ten minutes the first time, cached after).
    command -v go >/dev/null 2>&1 || die "cannot pull $waypoint_image and Go is not installed to build it: install golang-go, or make the registry reachable"
    echo "  the registry is out of reach: building the real Waypoint 0.11.4 from its Go module"
    waypoint_image="$(bash scripts/waypoint-build.sh)"
    echo "  Waypoint: $waypoint_image (the real server and runner, built here)"
  fi
  if have_image "$postgres_image"; then
    echo "  PostgreSQL: $postgres_image (from the registry)"
  else
    # PostgreSQL from Debian's own package: the same image the e2e tests use.
    [ -x /bin/busybox ] && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || run bash scripts/services.sh
    postgres_image="$(bash scripts/standin-build.sh)"
    echo "  PostgreSQL: $postgres_image (built here from Debian's postgresql package)"
  fi

  workdir="$(mktemp -d "${TMPDIR:-/tmp}/pilot-demo.XXXXXX")"
  export PILOT_HOME="$workdir/pilot-home" XDG_CONFIG_HOME="$workdir/config"
  echo "  PILOT_HOME=$PILOT_HOME"

  say "Creating the Pilot server on this Docker engine (PostgreSQL, Waypoint server and runner)"
  pilot up-server --name demo --provider local --waypoint-image "$waypoint_image" --postgres-image "$postgres_image"

  say "Running it again: nothing changes, the bootstrap only checks"
  pilot up-server --name demo

  say "Status: resources, the server and the runner"
  pilot status --name demo

  say "Where the UI is and how to reach the database"
  pilot server --ui --name demo
  pilot server --db --name demo --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const d=JSON.parse(s);console.log(`  database: ${d.user}@${d.host}:${d.port}/${d.database} (password shown by \`pilot server --db\`)`)})'

  say "Tearing it all down (containers, network, volumes)"
  pilot teardown --name demo --yes

  printf '\n%sDone.%s Keep one running: pilot up-server --provider local (see README.md).\n' "$bold" "$plain"
}

case "$mode" in
  local) demo_local ;;
  aws) demo_aws ;;
  gcp) demo_gcp ;;
esac
