/**
 * The server's SSH host key as EC2 publishes it (issue 8, point 5): on first
 * boot cloud-init on Ubuntu prints the host keys to the serial console,
 * between `-----BEGIN SSH HOST KEY KEYS-----` and `-----END ...`, and their
 * fingerprints between `-----BEGIN SSH HOST KEY FINGERPRINTS-----` and
 * `-----END ...`. GetConsoleOutput reads it with the caller's credentials, so
 * Pilot pins the key before its first SSH connection instead of trusting
 * whatever key answers first.
 */
import { DescribeInstancesCommand, GetConsoleOutputCommand } from "@aws-sdk/client-ec2";
import { attempt, orGone, waitFor, type AwsKindEnv } from "./shared.js";

/** Host key types in the order Pilot prefers them (ssh2 negotiates ed25519 first too). */
const PREFERRED = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"];
/** The fingerprint block names key types as ssh-keygen -l does. */
const FINGERPRINT_TYPE: Record<string, string> = { "ssh-ed25519": "ED25519", "ecdsa-sha2-nistp256": "ECDSA", "ssh-rsa": "RSA" };

/**
 * How long after launch the console is given to show the keys: EC2 updates
 * the console output some minutes after boot, and cloud-init prints them at
 * the end of its first run.
 */
export const CONSOLE_GRACE_MS = 8 * 60_000;

/**
 * What may stand before a console line's text: the kernel's timestamp
 * ("[   12.345678] "), then the syslog priority and date that `logger --stderr`
 * writes ("<14>Feb  5 10:07:40 ", how Ubuntu's cloud-init prints the
 * fingerprint block), then the "ec2: " tag cloud-init's helper logs it under.
 */
const CONSOLE_PREFIX = /^\s*(\[\s*[\d.]+\]\s*)?(<\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} )?(ec2:\s*)?/;

/** The lines between `-----BEGIN <name>-----` and `-----END <name>-----`, without the prefixes the console adds (CONSOLE_PREFIX). */
function block(console: string, name: string): string[] | undefined {
  const lines = console.split(/\r?\n/).map((l) => l.replace(CONSOLE_PREFIX, "").trim());
  const start = lines.indexOf(`-----BEGIN ${name}-----`);
  const end = lines.indexOf(`-----END ${name}-----`, start + 1);
  return start >= 0 && end > start ? lines.slice(start + 1, end) : undefined;
}

/**
 * The preferred host key in a console output: its OpenSSH line
 * ("ssh-ed25519 AAAA…") when cloud-init printed the keys, else its
 * fingerprint ("SHA256:…") from the fingerprint block; undefined when the
 * console shows neither (yet).
 */
export function hostKeyFromConsole(console: string): string | undefined {
  const keys = block(console, "SSH HOST KEY KEYS");
  const fingerprints = block(console, "SSH HOST KEY FINGERPRINTS");
  for (const type of PREFERRED) {
    const line = keys?.find((l) => l.startsWith(`${type} `));
    if (line) return line.split(/\s+/).slice(0, 2).join(" ");
    // "256 SHA256:abc… root@ip-10-42-0-5 (ED25519)"
    const fp = fingerprints?.find((l) => l.endsWith(`(${FINGERPRINT_TYPE[type]})`))?.split(/\s+/)[1];
    if (fp?.startsWith("SHA256:")) return fp;
  }
  return undefined;
}

/**
 * Testing only (README "Development"): with `PILOT_SSH_TARGET` SSH goes to a
 * stand-in whose key the VM's console does not show, so Pilot does not read
 * the console at all. `PILOT_TEST_CONSOLE_HOST_KEYS=1` reads it anyway: the
 * AWS host key e2e test serves the stand-in sshd's real keys through EC2's
 * GetConsoleOutput answer (a proxy in front of moto), so the whole path, the
 * real API call included, runs as it does against a real VM.
 */
export function consoleSpeaksForStandIn(env: NodeJS.ProcessEnv): boolean {
  return env.PILOT_TEST_CONSOLE_HOST_KEYS === "1";
}

/**
 * Reads the console until it shows the host keys, while the instance is
 * young enough for cloud-init to still print them; an older instance whose
 * console has none (another image, or output rotated away) gives undefined at
 * once, and the caller falls back to pinning on first contact and says so.
 */
export async function consoleHostKey(env: AwsKindEnv, instanceId: string, progress: (m: string) => void): Promise<string | undefined> {
  const { ec2 } = env.clients;
  const now = env.now ?? Date.now;
  const action = `read the SSH host key of aws.ec2.instance ${instanceId} in ${env.region}`;
  const described = await attempt(action, () => orGone(["InvalidInstanceID.NotFound"], () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))));
  const launched = described?.Reservations?.[0]?.Instances?.[0]?.LaunchTime;
  if (!launched) return undefined;
  const deadline = new Date(launched).getTime() + CONSOLE_GRACE_MS;
  return attempt(action, () =>
    waitFor(env, { what: `the host keys of ${instanceId} in its console output`, intervalMs: 15_000, initialIntervalMs: 5_000, timeoutMs: Math.max(0, deadline - now()) + 60_000, progress }, async () => {
      const res = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }));
      // The SDK hands the output over base64-encoded, as EC2 sends it.
      const text = res.Output ? Buffer.from(res.Output, "base64").toString("utf8") : "";
      const key = hostKeyFromConsole(text);
      return { done: key !== undefined || now() >= deadline, status: key ? "published" : "waiting for cloud-init to print them", value: key };
    }),
  );
}
