#!/usr/bin/env bash
# Builds the stand-in image the end-to-end tests use for PostgreSQL (no image
# registry is reachable there), from files already on this machine, with
# `docker import`. (Waypoint needs no stand-in: the tests and the demo build
# the real one from its Go module, scripts/waypoint-build.sh.)
#
#   pilot-standin/postgres:15      Debian's postgresql-15 binaries, libraries
#                                  and share files, busybox, and an entry
#                                  point that honours POSTGRES_PASSWORD /
#                                  POSTGRES_USER / POSTGRES_DB like the
#                                  official image (data in /var/lib/postgresql/data)
#
# Prints the tag on stdout (progress goes to stderr).
# Idempotent: the image carries a label with the hash of its inputs and is
# rebuilt only when they changed. Needs: docker, busybox (busybox-static),
# and the postgresql-15 package.
set -euo pipefail
cd "$(dirname "$0")/.."

POSTGRES_TAG="${PILOT_STANDIN_POSTGRES_TAG:-pilot-standin/postgres:15}"
PG_VERSION=15
PG_LIB="/usr/lib/postgresql/$PG_VERSION"
PG_SHARE="/usr/share/postgresql/$PG_VERSION"

log() { echo "standin-build: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing $1 ($2)"; exit 1; }; }
need docker "install docker.io and start dockerd"
need busybox "apt-get install busybox-static"
docker info >/dev/null 2>&1 || { log "docker does not answer 'docker info': start dockerd"; exit 1; }

BUSYBOX="$(command -v busybox)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  log "$BUSYBOX is dynamically linked; install busybox-static"
  exit 1
fi

# Hash of the files that go into an image, plus this script.
inputs_hash() {
  { sha256sum "$0" "$@" 2>/dev/null; } | sha256sum | cut -c1-32
}

current_hash() {
  docker image inspect --format '{{index .Config.Labels "pilot.standin.hash"}}' "$1" 2>/dev/null || true
}

# Copies each binary's shared libraries (as ldd resolves them) into ROOT, keeping paths.
copy_libs() {
  local root="$1"; shift
  local lib
  for lib in $(ldd "$@" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
    [ -e "$lib" ] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# A busybox root: /bin/busybox plus a symlink per applet, /tmp, /etc files.
busybox_root() {
  local root="$1"
  mkdir -p "$root/bin" "$root/usr/bin" "$root/tmp" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf /bin/busybox "$root/bin/$applet"
  done
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
}

import_image() {
  local root="$1" tag="$2" hash="$3"; shift 3
  local old; old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  tar -C "$root" --numeric-owner -c . | docker import --change "LABEL pilot.standin.hash=$hash" "$@" - "$tag" >/dev/null
  # Drop the image this one replaced, unless a container still uses it.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

build_postgres() {
  if [ ! -x "$PG_LIB/bin/postgres" ]; then
    log "no $PG_LIB/bin/postgres: apt-get install postgresql-$PG_VERSION"
    exit 1
  fi
  local entry=test/support/standin/postgres-entrypoint.sh
  local hash; hash="$(inputs_hash "$entry" "$PG_LIB/bin/postgres" "$BUSYBOX")"
  if [ "$(current_hash "$POSTGRES_TAG")" = "$hash" ]; then
    log "$POSTGRES_TAG is up to date"
    return
  fi
  log "building $POSTGRES_TAG"
  local root; root="$(mktemp -d)"
  trap 'rm -rf "$root"' RETURN
  busybox_root "$root"
  mkdir -p "$root$PG_LIB" "$root/usr/share/postgresql" "$root/usr/share/zoneinfo" "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
  cp -a "$PG_LIB/bin" "$root$PG_LIB/"
  mkdir -p "$root$PG_LIB/lib"
  # Every module but the LLVM JIT (it would pull in ~100 MB of LLVM; without it Postgres just runs without JIT).
  find "$PG_LIB/lib" -maxdepth 1 -type f -name '*.so' ! -name 'llvmjit*' -exec cp {} "$root$PG_LIB/lib/" \;
  cp -a "$PG_SHARE" "$root/usr/share/postgresql/"
  cp -a /usr/share/zoneinfo/. "$root/usr/share/zoneinfo/"
  copy_libs "$root" "$PG_LIB"/bin/* "$root$PG_LIB"/lib/*.so
  mkdir -p "$root/usr/local/bin"
  cp "$entry" "$root/usr/local/bin/docker-entrypoint.sh"
  chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' > "$root/etc/group"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  import_image "$root" "$POSTGRES_TAG" "$hash" \
    --change "ENV PATH=$PG_LIB/bin:/usr/local/bin:/usr/bin:/bin" \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'EXPOSE 5432' \
    --change 'VOLUME /var/lib/postgresql/data' \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]'
}

build_postgres
echo "$POSTGRES_TAG"
