import { asRoot, cmd, localProbeHost, tlsDir, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/**
 * The server answers HTTPS on its published UI port with a certificate the
 * stack's CA verifies (curl's default verification with --cacert; no -k).
 * Any HTTP status counts: we are asking "is it up", not "is / a page".
 * Polled every second for up to 3 minutes (first start creates the DB).
 */
export function waitForServer(ctx: StepContext): Step {
  const host = localProbeHost(ctx);
  return {
    name: "server-ready",
    description: "wait until the Waypoint server answers over verified TLS",
    check: [
      cmd(
        asRoot(ctx, "curl", "-sS", "-o", "/dev/null", "--max-time", "5", "--cacert", `${tlsDir(ctx)}/ca.pem`,
          `https://${host}:${ctx.ports.http}/`),
        { timeoutMs: 10_000 },
      ),
    ],
    apply: [],
    wait: { timeoutMs: 180_000, intervalMs: 1_000 },
  };
}
