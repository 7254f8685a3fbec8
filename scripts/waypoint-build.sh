#!/usr/bin/env bash
# Builds a Docker image of the real HashiCorp Waypoint (server, runner and
# CLI; 0.11.4 by default) from its Go module, without an image registry:
#
#   1. binaries   `go mod download` fetches github.com/hashicorp/waypoint
#                 through the Go module proxy; the module is copied out of
#                 the (read-only) module cache into .cache/waypoint/VERSION/src,
#                 given the placeholders it needs to compile (below), and
#                 built the way its Makefile's `bin` target builds it:
#                 waypoint-entrypoint first, embedded into the CLI with
#                 go-bindata under the `assetsembedded` tag (so the docker
#                 builder can inject it into app images from any working
#                 directory), then ./cmd/waypoint. CGO_ENABLED=0, the normal
#                 Go build cache, Go's default parallelism. The binaries are
#                 kept in .cache/waypoint/VERSION/bin.
#   2. image      a root file system laid out like the official Dockerfile's
#                 final stage (Alpine there): /usr/bin/waypoint and
#                 /usr/bin/waypoint-entrypoint, user `waypoint` (uid 100,
#                 group `waypoint` gid 1000), /data owned by it and declared a
#                 VOLUME, its HOME, XDG_RUNTIME_DIR and /etc/subuid+subgid,
#                 busybox (Debian's busybox-static) for sh/tr/grep/..., git
#                 (Debian's, with the libraries ldd lists) and the CA bundle;
#                 `docker import`ed with --change for USER/ENV/VOLUME/
#                 ENTRYPOINT (an import drops everything else).
#
# Prints only the tag, pilot-waypoint:VERSION-HASH, on stdout (progress goes
# to stderr). HASH covers every input of the image, so an existing tag is an
# up-to-date image. Idempotent: a second run finds the binaries and the tag
# and only prints it. Safe to run twice at once (a lock serialises runs).
#
# Needs: go (the module proxy in reach), docker, busybox-static, git,
# ca-certificates. A cold run downloads the modules the two commands import
# into the Go module cache (see go env GOMODCACHE) and compiles for a few
# minutes.
#
# Environment: PILOT_WAYPOINT_VERSION (default 0.11.4),
# PILOT_WAYPOINT_CACHE (default .cache/waypoint in the repository),
# PILOT_WAYPOINT_REPO (default pilot-waypoint; the tag's repository part).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${PILOT_WAYPOINT_VERSION:-0.11.4}"
MODULE=github.com/hashicorp/waypoint
CACHE_ROOT="${PILOT_WAYPOINT_CACHE:-$PWD/.cache/waypoint}"
WORK="$CACHE_ROOT/$VERSION"
SRC="$WORK/src"
BIN="$WORK/bin"
REPO="${PILOT_WAYPOINT_REPO:-pilot-waypoint}"

log() { echo "waypoint-build: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing $1 ($2)"; exit 1; }; }
# Go's own installer puts it in /usr/local/go, which a non-login shell may not have on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="$PATH:/usr/local/go/bin"; fi
need go "install Go (golang-go); the Go module proxy must be in reach"
need docker "install docker.io and start dockerd"
need busybox "apt-get install busybox-static"
need git "apt-get install git"
[ -f /etc/ssl/certs/ca-certificates.crt ] || { log "no /etc/ssl/certs/ca-certificates.crt: apt-get install ca-certificates"; exit 1; }
BUSYBOX="$(command -v busybox)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then log "$BUSYBOX is dynamically linked; install busybox-static"; exit 1; fi
GIT="$(readlink -f "$(command -v git)")"
GIT_CORE="$(git --exec-path)"

mkdir -p "$WORK"
# One run at a time per version (a second one waits, then finds the work done).
exec 9>"$WORK/.lock"
flock 9

sha() { sha256sum | cut -c1-"$1"; }
# A string field of `go mod download -json` (one "Key": "value" per line; Hash is Origin's).
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -n1; }

# --- 1. binaries -------------------------------------------------------------

# The placeholder for gortc.io/stun, a dependency of github.com/hashicorp/horizon
# (the URL service's client) that the module proxy refuses (403). Only
# horizon/pkg/netloc imports it, to learn the machine's public address from a
# STUN server; the URL service is off in Pilot's server. This is exactly the
# API netloc uses, and Dial always fails, so netloc finds no STUN address.
write_stun_placeholder() {
  local dir="$1"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<'EOF'
module gortc.io/stun

go 1.19
EOF
  cat >"$dir/stun.go" <<'EOF'
// Package stun is a placeholder for gortc.io/stun, which the Go module proxy
// does not serve. It has only what github.com/hashicorp/horizon/pkg/netloc
// uses, and Dial always fails: STUN address discovery is unavailable.
package stun

import (
	"errors"
	"net"
)

// ErrUnavailable is what Dial returns.
var ErrUnavailable = errors.New("gortc.io/stun placeholder: STUN is not available in this build")

type Message struct{}

type Setter interface{ AddTo(m *Message) error }

type noop struct{}

func (noop) AddTo(*Message) error { return nil }

var (
	TransactionID  Setter = noop{}
	BindingRequest Setter = noop{}
)

func MustBuild(setters ...Setter) *Message { return &Message{} }

type Event struct {
	Message *Message
	Error   error
}

type Client struct{}

func Dial(network, address string) (*Client, error) { return nil, ErrUnavailable }

func (c *Client) Do(m *Message, f func(Event)) error { return ErrUnavailable }

type XORMappedAddress struct {
	IP   net.IP
	Port int
}

func (a *XORMappedAddress) GetFrom(m *Message) error { return ErrUnavailable }
EOF
}

# The placeholder for the web UI's generated assets, used only when the module
# lacks pkg/server/gen/bindata_ui.go (the 0.11.4 module on the proxy has it).
# internal/server/http.go serves the UI with assetfs from gen.Asset,
# gen.AssetDir and gen.AssetInfo; with no assets every UI path answers an
# error, while the gRPC API and grpc-gateway on the same listener work.
write_ui_placeholder() {
  cat >"$1" <<'EOF'
// Placeholder for the generated web UI assets (go-bindata output that this
// copy of the module lacks): no assets.
package gen

import (
	"fmt"
	"os"
)

func Asset(name string) ([]byte, error) { return nil, fmt.Errorf("asset %s not found (UI placeholder)", name) }

func AssetDir(name string) ([]string, error) { return nil, fmt.Errorf("asset dir %s not found (UI placeholder)", name) }

func AssetInfo(name string) (os.FileInfo, error) { return nil, fmt.Errorf("asset %s not found (UI placeholder)", name) }
EOF
}

# Copies the module out of the module cache into $SRC (via a temporary
# folder, so an interrupted run leaves no half-made tree) and adds the
# placeholders. Sets ORIGIN_HASH (the tag's commit, for `waypoint version`).
prepare_source() {
  log "fetching $MODULE@v$VERSION through the Go module proxy"
  local json dir
  json="$(go mod download -json "$MODULE@v$VERSION")" || true
  dir="$(json_field Dir <<<"$json")"
  ORIGIN_HASH="$(json_field Hash <<<"$json")"
  [ -n "$dir" ] && [ -d "$dir" ] || { log "go mod download failed: $(json_field Error <<<"$json")"; exit 1; }
  rm -rf "$SRC" "$SRC.tmp"
  cp -r "$dir" "$SRC.tmp"
  chmod -R u+w "$SRC.tmp"
  if [ ! -f "$SRC.tmp/pkg/server/gen/bindata_ui.go" ]; then
    log "the module has no web UI assets: adding a placeholder pkg/server/gen/bindata_ui.go"
    write_ui_placeholder "$SRC.tmp/pkg/server/gen/bindata_ui.go"
  fi
  # A folder starting with "_" is outside the main module's ./... patterns.
  write_stun_placeholder "$SRC.tmp/_placeholders/gortc-stun"
  (cd "$SRC.tmp" && go mod edit -replace gortc.io/stun=./_placeholders/gortc-stun)
  mv "$SRC.tmp" "$SRC"
}

# The Makefile's `bin` target for this machine's platform (linux/amd64 only:
# no ceb-arm64, so the docker builder cannot inject into arm64 images).
# The docker, pull and pack builders inject the copy embedded in the CLI
# (assets.Asset("ceb/ceb")), not /usr/bin/waypoint-entrypoint. The Makefile
# builds the image's /usr/bin/waypoint-entrypoint a second time, with the tag
# (it links those builder packages, so it carries its own embedded copy, which
# it never uses); here the untagged build that gets embedded is also the one
# installed: same code, one compile less and ~30 MB less image.
build_binaries() {
  local ldflags="-s -w -X $MODULE/internal/version.GitCommit=${ORIGIN_HASH:0:8} -X $MODULE/internal/version.GitDescribe=v$VERSION"
  export CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOFLAGS=-buildvcs=false
  rm -rf "$BIN.tmp"
  mkdir -p "$BIN.tmp" "$SRC/internal/assets/ceb"
  log "building ./cmd/waypoint-entrypoint (downloads its dependencies on a cold cache)"
  (cd "$SRC" && go build -ldflags "$ldflags" -o internal/assets/ceb/ceb ./cmd/waypoint-entrypoint)
  log "embedding it with go-bindata (internal/assets/prod.go, tag assetsembedded)"
  (cd "$SRC/internal/assets" && go run github.com/kevinburke/go-bindata/go-bindata -pkg assets -o prod.go -tags assetsembedded ./ceb)
  log "building ./cmd/waypoint (a few minutes on a cold build cache)"
  (cd "$SRC" && go build -ldflags "$ldflags" -tags assetsembedded -o "$BIN.tmp/waypoint" ./cmd/waypoint)
  cp "$SRC/internal/assets/ceb/ceb" "$BIN.tmp/waypoint-entrypoint"
  echo "$RECIPE" >"$BIN.tmp/recipe"
  rm -rf "$BIN"
  mv "$BIN.tmp" "$BIN"
}

# The binaries are rebuilt when the version, the Go toolchain or the build
# steps above (their text, placeholders included) change.
RECIPE="$({ echo "$VERSION"; go version; declare -f write_stun_placeholder write_ui_placeholder prepare_source build_binaries; } | sha 16)"
if [ -x "$BIN/waypoint" ] && [ -x "$BIN/waypoint-entrypoint" ] && [ "$(cat "$BIN/recipe" 2>/dev/null)" = "$RECIPE" ]; then
  log "binaries for $VERSION are cached in $BIN"
else
  started=$SECONDS
  prepare_source
  build_binaries
  log "built the binaries in $((SECONDS - started))s: $(du -h "$BIN/waypoint" | cut -f1) waypoint, $(du -h "$BIN/waypoint-entrypoint" | cut -f1) waypoint-entrypoint"
fi

# --- 2. image ----------------------------------------------------------------

# Files Debian's git needs: the git binary, its helpers (git-remote-http for
# https remotes among them), its templates, and their shared libraries.
GIT_FILES=("$GIT" "$GIT_CORE"/git-remote-http)
git_libs() { ldd "${GIT_FILES[@]}" 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | sort -u; }

# Copies each file into ROOT under the same path (following symlinks).
copy_into() {
  local root="$1" f; shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
}

assemble_root() {
  local root="$1"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,data,home/waypoint,run/user/100,etc/ssl/certs}
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  # busybox, with a link per applet (Alpine's sh, tr, grep, id, ...).
  cp "$BUSYBOX" "$root/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
  done
  # git: Debian's, with its exec-path, templates and libraries.
  cp "$GIT" "$root/usr/bin/git"
  mkdir -p "$root$GIT_CORE"
  cp -a "$GIT_CORE/." "$root$GIT_CORE/"
  [ -d /usr/share/git-core/templates ] && { mkdir -p "$root/usr/share/git-core"; cp -a /usr/share/git-core/templates "$root/usr/share/git-core/"; }
  copy_into "$root" $(git_libs)
  # CA certificates (Go and libcurl both read this bundle).
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  # Waypoint.
  install -m 0755 "$BIN/waypoint" "$root/usr/bin/waypoint"
  install -m 0755 "$BIN/waypoint-entrypoint" "$root/usr/bin/waypoint-entrypoint"
  # Users as Alpine's `addgroup waypoint && adduser -S -u 100 -G waypoint waypoint` leaves them.
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/:/sbin/nologin
waypoint:x:100:1000:Linux User,,,:/home/waypoint:/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:root
nogroup:x:65533:
nobody:x:65534:
waypoint:x:1000:waypoint
EOF
  printf 'waypoint:100000:65536\n' >"$root/etc/subuid"
  printf 'waypoint:100000:65536\n' >"$root/etc/subgid"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chown 100:1000 "$root/data" "$root/home/waypoint"
  chown 100:0 "$root/run/user/100"
}

IMAGE_HASH="$({ sha256sum "$BIN/waypoint" "$BIN/waypoint-entrypoint" "$BUSYBOX" /etc/ssl/certs/ca-certificates.crt $(git_libs); \
  (cd "$GIT_CORE" && find . -type f -exec sha256sum {} + | sort); \
  declare -f git_libs copy_into assemble_root; } | sha 12)"
TAG="$REPO:$VERSION-$IMAGE_HASH"

docker info >/dev/null 2>&1 || { log "docker does not answer 'docker info': start dockerd"; exit 1; }
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG is up to date"
else
  log "assembling the root file system for $TAG"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  assemble_root "$root"
  log "importing it ($(du -sh "$root" | cut -f1))"
  tar -C "$root" --numeric-owner -c . | docker import \
    --change "LABEL pilot.waypoint.version=$VERSION pilot.waypoint.hash=$IMAGE_HASH" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV USER=waypoint' \
    --change 'ENV HOME=/home/waypoint' \
    --change 'ENV XDG_RUNTIME_DIR=/run/user/100' \
    --change 'VOLUME ["/data"]' \
    --change 'USER waypoint' \
    --change 'ENTRYPOINT ["/usr/bin/waypoint"]' \
    - "$TAG" >/dev/null
  # Older builds of this version (other hashes) go, unless a container uses them.
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO" | grep "^$REPO:$VERSION-" | grep -vx "$TAG" | xargs -r docker rmi >/dev/null 2>&1 || true
  log "built $TAG ($(docker image inspect --format '{{.Size}}' "$TAG" | numfmt --to=iec))"
fi
echo "$TAG"
