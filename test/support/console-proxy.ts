/**
 * An HTTP proxy on loopback in front of moto that answers EC2's
 * GetConsoleOutput with a console the test chooses, per instance: moto's own
 * answer is a fixed kernel log with no SSH host keys in it. Every other call,
 * and GetConsoleOutput itself, goes to moto unchanged (so an unknown instance
 * still gets moto's error); only the `<output>` of a successful answer is
 * replaced. Point the CLI at it with AWS_ENDPOINT_URL and Pilot's real
 * GetConsoleOutput call reads what the test serves.
 *
 * `cloudInitConsole()` writes a console the way Ubuntu's cloud-init does at
 * the end of a first boot, so the e2e tier can serve the test sshd's real
 * host key through the API Pilot reads it from on a real VM.
 */
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from "node:http";
import { createHash } from "node:crypto";
import { listenOnLoopback } from "./loopback-server.js";

/** A running console proxy. */
export interface ConsoleProxy {
  /** The proxy's base URL: use as AWS_ENDPOINT_URL. */
  url: string;
  /**
   * What each instance's console shows from now on: a text, or undefined for
   * moto's own answer. `read` counts that instance's GetConsoleOutput calls
   * so far, this one included (1 on the first read).
   */
  serve(console: (instanceId: string, read: number) => string | undefined): void;
  /** Instance ids of the GetConsoleOutput calls so far, in order. */
  reads(): string[];
  close(): Promise<void>;
}

/** Hop-by-hop and length headers, which the proxy sets itself. */
const DROP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

function forwardable(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !DROP.has(k.toLowerCase())));
}

/** Starts the proxy in front of `target` (moto's base URL). */
export async function startConsoleProxy(target: string): Promise<ConsoleProxy> {
  const upstream = new URL(target);
  let consoleOf: (instanceId: string, read: number) => string | undefined = () => undefined;
  const reads: string[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      // EC2 speaks the query protocol: a form-encoded POST whose Action names the call.
      const form = new URLSearchParams((req.headers["content-type"] ?? "").includes("x-www-form-urlencoded") ? body.toString("utf8") : "");
      const instanceId = form.get("Action") === "GetConsoleOutput" ? (form.get("InstanceId") ?? "") : undefined;
      if (instanceId !== undefined) reads.push(instanceId);
      const read = instanceId === undefined ? 0 : reads.filter((id) => id === instanceId).length;
      const up = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...forwardable(req.headers), host: upstream.host, "content-length": body.length } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            let out = Buffer.concat(parts);
            const text = instanceId !== undefined && answer.statusCode === 200 ? consoleOf(instanceId, read) : undefined;
            if (text !== undefined) {
              // EC2 hands the console over base64-encoded, in <output>.
              const b64 = Buffer.from(text, "utf8").toString("base64");
              out = Buffer.from(out.toString("utf8").replace(/<output>[^<]*<\/output>/, `<output>${b64}</output>`), "utf8");
            }
            res.writeHead(answer.statusCode ?? 502, { ...forwardable(answer.headers), "content-length": out.length });
            res.end(out);
          });
          answer.on("error", () => res.destroy());
        },
      );
      up.on("error", (err) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`console proxy: ${err.message}`);
      });
      up.end(body);
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    serve(fn) {
      consoleOf = fn;
    },
    reads: () => [...reads],
    close: listener.close,
  };
}

/** OpenSSH's SHA256 fingerprint of a public key line ("ssh-ed25519 AAAA... comment"), as `ssh-keygen -l` prints it. */
export function fingerprintOfPublicKey(line: string): string {
  const blob = Buffer.from(line.trim().split(/\s+/)[1]!, "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * A console as EC2 shows it for an Ubuntu instance whose cloud-init has
 * finished its first boot: kernel lines, then cloud-init's helper
 * (write-ssh-key-fingerprints) logging the fingerprints through
 * `logger --stderr -t ec2` (so with a syslog priority and date) and printing
 * the public keys plainly.
 */
export function cloudInitConsole(publicKeyLines: string[], host = "ip-10-42-0-5"): string {
  const types: Record<string, string> = { "ssh-ed25519": "ED25519", "ecdsa-sha2-nistp256": "ECDSA", "ssh-rsa": "RSA" };
  const log = (line: string) => `<14>Feb  5 10:07:40 ec2: ${line}`;
  const keys = publicKeyLines.map((l) => l.trim().split(/\s+/).slice(0, 2));
  return [
    "[    0.000000] Linux version 6.8.0-1012-aws (buildd@lcy02-amd64-058) #12-Ubuntu SMP",
    "[    9.876543] cloud-init[612]: Cloud-init v. 24.1.3-0ubuntu3 running 'init' at Wed, 05 Feb 2025 10:07:21 +0000.",
    `[   12.345678] cloud-init[812]: Cloud-init v. 24.1.3-0ubuntu3 running 'modules:final' at Wed, 05 Feb 2025 10:07:39 +0000.`,
    log(""),
    log("#############################################################"),
    log("-----BEGIN SSH HOST KEY FINGERPRINTS-----"),
    ...keys.map(([type, b64]) => log(`256 ${fingerprintOfPublicKey(`${type} ${b64}`)} root@${host} (${types[type!] ?? type})`)),
    log("-----END SSH HOST KEY FINGERPRINTS-----"),
    log("#############################################################"),
    "-----BEGIN SSH HOST KEY KEYS-----",
    ...keys.map(([type, b64]) => `${type} ${b64} root@${host}`),
    "-----END SSH HOST KEY KEYS-----",
    `[   13.012345] cloud-init[812]: Cloud-init v. 24.1.3-0ubuntu3 finished at Wed, 05 Feb 2025 10:07:40 +0000. Datasource DataSourceEc2Local.  Up 13.00 seconds`,
    "",
  ].join("\r\n");
}
