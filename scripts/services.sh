#!/usr/bin/env bash
# Installs (when missing) and starts what the integration and e2e tiers need:
# Debian's docker.io with dockerd running, openssh-server and sudo (each test
# starts its own sshd on loopback, with a sudo-capable user), busybox-static
# and postgresql (for the stand-in images), curl, and a Python venv with moto[server] and
# google-api-python-client (whose discovery documents the GCP fake, test/fakes/gcp, validates
# requests against). Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
python3 -c 'import venv' 2>/dev/null || need_apt+=(python3-venv)
# The e2e "VM" user runs docker through `sudo -n`, as on a cloud image; curl probes the server.
command -v sudo >/dev/null 2>&1 || need_apt+=(sudo)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "services: missing ${need_apt[*]}; install them (as root: apt-get install -y ${need_apt[*]})" >&2
    exit 1
  fi
  echo "services: installing ${need_apt[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# dockerd: start it in the background unless an engine already answers.
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "services: no Docker engine answers and this is not root; start dockerd" >&2
    exit 1
  fi
  echo "services: starting dockerd" >&2
  mkdir -p .pilot-test
  nohup dockerd >.pilot-test/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "services: dockerd did not start; see .pilot-test/dockerd.log" >&2; tail -20 .pilot-test/dockerd.log >&2; exit 1; }
fi

# moto in a project-local venv (git-ignored); PILOT_MOTO_VENV points elsewhere if set.
venv="${PILOT_MOTO_VENV:-.venv/moto}"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "services: creating $venv with moto[server] and google-api-python-client" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]" google-api-python-client
fi
# A venv made before the GCP fake existed lacks Google's client (and its discovery documents).
if ! "$venv/bin/python" -c 'import googleapiclient' >/dev/null 2>&1; then
  echo "services: adding google-api-python-client to $venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check google-api-python-client
fi
echo "services: ready (docker $(docker version --format '{{.Server.Version}}'), moto in $venv)" >&2
