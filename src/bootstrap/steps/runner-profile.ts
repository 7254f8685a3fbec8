import { CONTAINER_CA_DIR, CONTAINER_CA_FILE, caDir, type StepContext } from "./context.js";
import { waypointJsonContains, waypointProfileSet } from "./waypoint-cli.js";
import type { Step } from "../types.js";

/**
 * The Docker task launcher's plugin configuration for on-demand runners
 * (builtin/docker/task.go TaskLauncherConfig): on the stack's network, so
 * they reach the server by its advertise address, with the stack CA bound
 * read-only and named by SSL_CERT_FILE (Go's crypto/x509 reads it), so they
 * verify its certificate. The CA folder, not the TLS folder: no server key.
 */
export function profilePluginConfig(ctx: StepContext): string {
  return JSON.stringify({
    networks: [ctx.names.network],
    binds: [`${caDir(ctx)}:${CONTAINER_CA_DIR}:ro`],
    static_environment: { SSL_CERT_FILE: CONTAINER_CA_FILE },
  });
}

/**
 * Everything `waypoint runner profile inspect -json` shows of the profile
 * after its id, whitespace removed, in the order protojson prints it (proto
 * field order, map keys sorted). Ending at the closing brace means nothing
 * else is set — in particular not `"default":true`.
 */
export function expectedProfileJson(ctx: StepContext): string {
  const { profileName, runnerId } = ctx.names;
  return (
    `"name":"${profileName}","targetRunner":{"id":{"id":"${runnerId}"}},"ociUrl":"${ctx.odrImage}",` +
    `"environmentVariables":{"SSL_CERT_FILE":"${CONTAINER_CA_FILE}"},"pluginType":"docker",` +
    `"pluginConfig":"${Buffer.from(profilePluginConfig(ctx)).toString("base64")}","configFormat":"JSON"}`
  );
}

/**
 * An on-demand runner profile for the stack, NOT the default: jobs run on
 * the static runner itself (README "Which runner runs the jobs"). A project
 * may opt into on-demand runners by naming this profile; they then reach and
 * trust the server as above. The check compares every field Pilot sets.
 */
export function setRunnerProfile(ctx: StepContext, token: string): Step {
  const { profileName, runnerId } = ctx.names;
  return {
    name: "runner-profile",
    description: `set the on-demand runner profile ${profileName} (${ctx.odrImage}, not the default)`,
    check: [waypointJsonContains(ctx, token, ["runner", "profile", "inspect", "-json", profileName], expectedProfileJson(ctx))],
    apply: [
      waypointProfileSet(ctx, token, profileName, [
        "runner", "profile", "set",
        `-name=${profileName}`,
        "-plugin-type=docker",
        `-oci-url=${ctx.odrImage}`,
        `-env-var=SSL_CERT_FILE=${CONTAINER_CA_FILE}`,
        "-default=false",
        `-target-runner-id=${runnerId}`,
      ], profilePluginConfig(ctx)),
    ],
  };
}
