import { CONTAINER_TLS_DIR, GRPC_PORT, cmd, docker, type StepContext } from "./context.js";
import type { Command } from "../types.js";

/**
 * Runs the `waypoint` CLI inside the server container (Pilot never needs a
 * local Waypoint binary). It talks to the server on localhost over TLS and
 * verifies the certificate against the stack's CA (SSL_CERT_FILE is what Go's
 * crypto/x509 reads on Linux): no skip-verify.
 *
 * The auth token never appears in argv (visible in `ps` on the server and in
 * our logs): it goes in on stdin and a fixed shell line reads it into
 * WAYPOINT_SERVER_TOKEN. The line is a constant; arguments follow it as "$@".
 */

/** Reads the token from stdin, then runs waypoint with the remaining arguments. */
export const WITH_TOKEN_SCRIPT = 'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"';

/**
 * Like WITH_TOKEN_SCRIPT, but succeeds only if the JSON output, with all
 * whitespace removed (protojson varies its spacing on purpose), contains
 * one of the lines of $PILOT_EXPECT literally.
 */
export const EXPECT_JSON_SCRIPT = [
  "IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN",
  'out=$(waypoint "$@") || exit 1',
  "flat=$(printf %s \"$out\" | tr -d ' \\t\\n\\r')",
  'printf \'%s\\n\' "$PILOT_EXPECT" | { while IFS= read -r e; do case "$flat" in *"$e"*) exit 0;; esac; done; exit 1; }',
].join("\n");

/**
 * `waypoint "$@"` (a `runner profile set`) with a plugin configuration, which the
 * CLI reads only from a file named *.json or *.hcl: stdin carries the token
 * line, then the JSON, written to a private temporary file in the server
 * container. The profile is deleted first, because `set` merges environment
 * variables into an existing profile and would keep ones Pilot no longer sets.
 */
export const PROFILE_SET_SCRIPT = [
  "IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN",
  'd=$(mktemp -d) || exit 1',
  'cat > "$d/plugin.json"',
  'waypoint runner profile delete "$PILOT_PROFILE" >/dev/null 2>&1',
  'waypoint "$@" -plugin-config="$d/plugin.json"; s=$?',
  'rm -rf "$d"; exit $s',
].join("\n");

export function clientEnv(): string[] {
  return [
    "-e", `WAYPOINT_SERVER_ADDR=localhost:${GRPC_PORT}`,
    "-e", "WAYPOINT_SERVER_TLS=true",
    "-e", "WAYPOINT_SERVER_TLS_SKIP_VERIFY=false",
    "-e", `SSL_CERT_FILE=${CONTAINER_TLS_DIR}/ca.pem`,
  ];
}

/** `waypoint ARGS` in the server container without a token (only `server bootstrap` needs this). */
export function waypointAnonymous(ctx: StepContext, args: string[]): Command {
  return cmd(docker(ctx, "exec", ...clientEnv(), ctx.names.serverContainer, "waypoint", ...args));
}

/** A fixed shell line in the server container, with the client environment and "$@" = args. */
export function waypointScript(ctx: StepContext, script: string, args: string[]): Command {
  return cmd(docker(ctx, "exec", ...clientEnv(), ctx.names.serverContainer, "sh", "-c", script, "waypoint", ...args));
}

/** `waypoint ARGS` in the server container, authenticated with the token passed on stdin. */
export function waypointWithToken(ctx: StepContext, token: string, args: string[]): Command {
  return cmd(
    docker(ctx, "exec", "-i", ...clientEnv(), ctx.names.serverContainer, "sh", "-c", WITH_TOKEN_SCRIPT, "waypoint", ...args),
    { stdin: `${token}\n` },
  );
}

/** Succeeds when `waypoint ARGS` (JSON output), whitespace removed, contains `expect` (or one of several). */
export function waypointJsonContains(ctx: StepContext, token: string, args: string[], expect: string | string[]): Command {
  const alternatives = typeof expect === "string" ? [expect] : expect;
  return cmd(
    docker(
      ctx, "exec", "-i", ...clientEnv(), "-e", `PILOT_EXPECT=${alternatives.join("\n")}`,
      ctx.names.serverContainer, "sh", "-c", EXPECT_JSON_SCRIPT, "waypoint", ...args,
    ),
    { stdin: `${token}\n` },
  );
}

/** `waypoint runner profile set ARGS` with `pluginConfig` as its plugin configuration (see PROFILE_SET_SCRIPT). */
export function waypointProfileSet(ctx: StepContext, token: string, profile: string, args: string[], pluginConfig: string): Command {
  return cmd(
    docker(
      ctx, "exec", "-i", ...clientEnv(), "-e", `PILOT_PROFILE=${profile}`,
      ctx.names.serverContainer, "sh", "-c", PROFILE_SET_SCRIPT, "waypoint", ...args,
    ),
    { stdin: `${token}\n${pluginConfig}` },
  );
}
