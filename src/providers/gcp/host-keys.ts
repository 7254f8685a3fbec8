/**
 * The server's SSH host key as Google publishes it: the guest agent on
 * Google's Ubuntu images writes the VM's host keys to guest attributes
 * (namespace "hostkeys"), readable through the Compute API with the
 * caller's credentials. Pilot pins that key before its first SSH connection
 * instead of trusting whatever key answers first.
 */
import { isNotFound } from "./errors.js";
import { waitFor, type GcpKindEnv } from "./shared.js";

/** Host key types in the order Pilot prefers them (ssh2 negotiates ed25519 first too). */
const PREFERRED = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "ssh-rsa"];

/** How long after the VM starts the guest agent is given to publish its keys. */
export const GUEST_AGENT_GRACE_MS = 3 * 60_000;

/** The published host keys as OpenSSH lines ("ssh-ed25519 AAAA..."), or [] when none are published yet. */
export async function readHostKeys(env: GcpKindEnv, instance: string): Promise<string[]> {
  try {
    const res = await env.clients.compute.instances.getGuestAttributes({ project: env.project, zone: env.zone, instance, queryPath: "hostkeys/" });
    return (res.data.queryValue?.items ?? []).filter((i) => i.namespace === "hostkeys" && i.key && i.value).map((i) => `${i.key} ${i.value!.trim()}`);
  } catch (err) {
    // Nothing written under hostkeys/ yet answers 404.
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** The preferred key of a list, or undefined. */
export function preferredHostKey(keys: string[]): string | undefined {
  for (const type of PREFERRED) {
    const k = keys.find((line) => line.startsWith(`${type} `));
    if (k) return k;
  }
  return undefined;
}

/**
 * Waits for the guest agent to publish the host keys while the VM is young
 * (it does so within a minute or two of boot); an older VM without them is
 * one whose agent does not publish, and undefined says so at once.
 */
export async function publishedHostKey(
  env: GcpKindEnv,
  instance: string,
  startedAt: number | undefined,
  progress: (m: string) => void,
): Promise<string | undefined> {
  const now = env.now ?? Date.now;
  const deadline = (startedAt ?? 0) + GUEST_AGENT_GRACE_MS;
  const key = await waitFor(env, { what: `the host keys of ${instance}`, intervalMs: 5_000, timeoutMs: Math.max(0, deadline - now()) + 60_000, progress }, async () => {
    const found = preferredHostKey(await readHostKeys(env, instance));
    return { done: found !== undefined || now() >= deadline, status: found ? "published" : "waiting for the guest agent to publish them", value: found };
  });
  return key;
}
