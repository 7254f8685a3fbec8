import { asRoot, cmd, sha256, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/**
 * Registries the runner pushes app images to with the server's own cloud
 * identity. Waypoint's docker registry plugin (builtin/docker/
 * registry_docker.go) reads the Docker CLI config file and asks the
 * credential helper it names for the registry's host, so the runner gets a
 * config naming Pilot's helper for these hosts and the helper itself.
 * "gce-metadata": a GCE VM's service account token from the metadata server
 * (what Google's docker-credential-gcr does on GCE), for Artifact Registry.
 */
export interface RegistryAuth {
  helper: "gce-metadata";
  /** Registry host names, e.g. "europe-west1-docker.pkg.dev". */
  hosts: string[];
}

/** The helper's name in credHelpers; Docker runs `docker-credential-<name>`. */
export const GCE_HELPER_NAME = "pilot-gce";
export const GCE_HELPER_BINARY = `docker-credential-${GCE_HELPER_NAME}`;

/** Where the runner sees its Docker config (DOCKER_CONFIG) and, on its PATH, the helper. */
export const CONTAINER_DOCKER_CONFIG_DIR = "/pilot/docker";
export const CONTAINER_HELPER_PATH = `/usr/local/bin/${GCE_HELPER_BINARY}`;

/**
 * The credential helper, as a POSIX sh script that needs only what Waypoint's
 * images have (busybox: sh, wget, sed, tr, timeout, mktemp; the official
 * image is Alpine's busybox, Pilot's own Debian's busybox-static): no jq, no
 * binary to download. Docker's helper protocol: `get` reads the registry's
 * address on stdin and prints {"Username","Secret"} on stdout; a failure
 * prints nothing there, exits non-zero and says why on stderr (the runner's
 * log). The token is the VM service account's, from the metadata server
 * (169.254.169.254, or GCE_METADATA_HOST as Google's client libraries
 * honour it, so a test can point it at a fake); `oauth2accesstoken` is the
 * user name Google's registries take an access token with. The token is
 * checked to be a plain token (no quote, no backslash) before it is put in JSON.
 */
export const GCE_CREDENTIAL_HELPER_SCRIPT = `#!/bin/sh
# ${GCE_HELPER_BINARY}: Docker credential helper written by Pilot. Answers
# "get" with the GCE VM service account's access token (metadata server), for
# the Artifact Registry hosts the runner's Docker config names it for.
set -u
me=${GCE_HELPER_BINARY}
fail() { echo "$me: $*" >&2; exit 1; }
case "\${1:-}" in
  get) ;;
  list) echo '{}'; exit 0 ;;
  store|erase) cat >/dev/null; fail "$1 is not supported: the credentials are the VM's service account's" ;;
  *) fail "usage: $me get (the registry's address on stdin)" ;;
esac
# The registry's address: every host the config names this helper for gets the same token.
cat >/dev/null
url="http://\${GCE_METADATA_HOST:-169.254.169.254}/computeMetadata/v1/instance/service-accounts/default/token"
err="$(mktemp)" || fail "cannot make a temporary file"
trap 'rm -f "$err"' EXIT
# busybox wget has no timeout option everywhere: timeout(1) bounds it.
if ! body="$(timeout 10 wget -q -O - --header 'Metadata-Flavor: Google' "$url" 2>"$err")"; then
  fail "no access token from the GCE metadata server at $url: $(tr '\\n' ' ' <"$err")(is this a GCE VM with a service account?)"
fi
token="$(printf '%s' "$body" | tr -d '\\r\\n' | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p')"
case "$token" in
  "" | *[!A-Za-z0-9._~+/=-]*) fail "the GCE metadata server at $url answered without a usable access_token" ;;
esac
printf '{"Username":"oauth2accesstoken","Secret":"%s"}\\n' "$token"
`;

/** The runner's Docker config: only credHelpers, the helper named for each host. */
export function runnerDockerConfig(auth: RegistryAuth): string {
  const credHelpers = Object.fromEntries([...auth.hosts].sort().map((h) => [h, GCE_HELPER_NAME]));
  return `${JSON.stringify({ credHelpers }, null, 2)}\n`;
}

/** The folder on the target holding the runner's Docker config and the helper (bind-mounted read-only). */
export function dockerConfigDir(ctx: StepContext): string {
  return `${ctx.remoteDir}/docker`;
}

/** The files the step writes: path on the target, content, mode. Empty without registry auth. */
function files(ctx: StepContext): [string, string, number][] {
  const auth = ctx.registryAuth;
  if (!auth || auth.hosts.length === 0) return [];
  const dir = dockerConfigDir(ctx);
  return [
    [`${dir}/config.json`, runnerDockerConfig(auth), 0o644],
    [`${dir}/${GCE_HELPER_BINARY}`, GCE_CREDENTIAL_HELPER_SCRIPT, 0o755],
  ];
}

/**
 * The runner's `docker run` options for registry auth (none without it):
 * the config folder read-only as DOCKER_CONFIG, the helper on its PATH.
 * Mounted from the host rather than baked into the image, so any Waypoint
 * image (the official one included) gets it.
 */
export function registryAuthRunOptions(ctx: StepContext): string[] {
  if (files(ctx).length === 0) return [];
  const dir = dockerConfigDir(ctx);
  return [
    "-v", `${dir}:${CONTAINER_DOCKER_CONFIG_DIR}:ro`,
    "-v", `${dir}/${GCE_HELPER_BINARY}:${CONTAINER_HELPER_PATH}:ro`,
    "-e", `DOCKER_CONFIG=${CONTAINER_DOCKER_CONFIG_DIR}`,
  ];
}

/** Digests of the files, for the runner's config hash (a changed helper or host re-creates the runner). */
export function registryAuthDigest(ctx: StepContext): string[] {
  return files(ctx).map(([path, content, mode]) => `${path} ${mode.toString(8)} ${sha256(content)}`);
}

/** Whether the stack's runner gets registry auth at all. */
export function hasRegistryAuth(ctx: StepContext): boolean {
  return files(ctx).length > 0;
}

/** Writes the runner's Docker config and the credential helper; the check compares content hashes. */
export function uploadRegistryAuth(ctx: StepContext): Step {
  const dir = dockerConfigDir(ctx);
  const f = files(ctx);
  return {
    name: "registry-auth",
    description: `write the runner's Docker config and credential helper to ${dir} (${ctx.registryAuth?.hosts.join(", ") ?? "none"})`,
    check: f.map(([path, content, mode]) =>
      // For the helper the mode matters too: one that is not executable is no helper.
      cmd(mode & 0o111 ? asRoot(ctx, "sh", "-c", 'test -x "$1" && cat "$1"', "sh", path) : asRoot(ctx, "cat", path), { expect: { sha256: sha256(content) } }),
    ),
    apply: [
      cmd(asRoot(ctx, "install", "-d", "-m", "0700", ctx.remoteDir)),
      cmd(asRoot(ctx, "install", "-d", "-m", "0755", dir)),
      ...f.map(([path, content, mode]) => ({ upload: path, content, mode })),
    ],
  };
}
