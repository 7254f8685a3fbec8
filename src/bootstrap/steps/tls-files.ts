import { asRoot, caDir, cmd, sha256, tlsDir, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/**
 * The stack's CA certificate and the server's certificate and key on the
 * target. Layout and modes, and why:
 *   REMOTE/        0700 root  — nobody but root gets past here on the host;
 *   REMOTE/tls/    0755       — bind-mounted into the containers, where the
 *   *.pem          0644         Waypoint server runs as a non-root user that
 *                               must traverse and read it;
 *   REMOTE/ca/     0755       — the CA certificate alone, for containers that
 *   ca.pem         0644         only verify the server (on-demand runners,
 *                               apps): they never see the server's key.
 * The check compares content hashes, so a re-issued certificate is uploaded
 * again (and the server container, whose config hash includes it, restarts).
 */
export function uploadTls(ctx: StepContext): Step {
  const dir = tlsDir(ctx);
  const files: [string, string][] = [
    [`${dir}/ca.pem`, ctx.tls.caPem],
    [`${dir}/server.pem`, ctx.tls.certPem],
    [`${dir}/server-key.pem`, ctx.tls.keyPem],
    [`${caDir(ctx)}/ca.pem`, ctx.tls.caPem],
  ];
  return {
    name: "tls",
    description: `upload the stack CA and server certificate to ${dir}`,
    check: files.map(([path, content]) => cmd(asRoot(ctx, "cat", path), { expect: { sha256: sha256(content) } })),
    apply: [
      cmd(asRoot(ctx, "install", "-d", "-m", "0700", ctx.remoteDir)),
      cmd(asRoot(ctx, "install", "-d", "-m", "0755", dir)),
      cmd(asRoot(ctx, "install", "-d", "-m", "0755", caDir(ctx))),
      ...files.map(([path, content]) => ({ upload: path, content, mode: 0o644 })),
    ],
  };
}
