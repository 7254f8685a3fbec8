/**
 * A fake of the Google Cloud REST APIs Pilot uses (compute, sqladmin,
 * servicenetworking, vpcaccess, iam, cloudresourcemanager, serviceusage,
 * artifactregistry, run, secretmanager), on one loopback HTTP server. Requests are checked against
 * Google's own discovery documents; the resources behave like Google's
 * (operations that take time, refusals to delete what is in use, requestId
 * idempotency, the lingering Service Networking refusal, disabled APIs).
 *
 *   const gcp = await startFakeGcp({ latencyMs: 20 });
 *   const compute = new compute_v1.Compute({ rootUrl: gcp.url });
 *   ...
 *   gcp.control.inventory({ labels: { "pilot-stack": "it" } });
 *   await gcp.close();
 *
 * `npm run fake:gcp -- --port N` runs one on its own (see main.ts); its
 * control API is then at `<url>/__fake/...` (see admin-http.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./admin-http.js";
import { createControl, type FakeGcpControl } from "./control.js";
import { discoveryDir } from "./discovery.js";
import { dispatch } from "./dispatch.js";
import { Faults } from "./faults.js";
import { latencySettings, type LatencyOptions } from "./latency.js";
import { RequestLog } from "./request-log.js";
import { Router } from "./router.js";
import { World } from "./world.js";

export type { FakeGcpControl, InventoryFilter, LatencyUpdate } from "./control.js";
export type { FaultSpec, Fault, FaultRequest } from "./faults.js";
export type { LoggedRequest } from "./request-log.js";
export type { InventoryItem } from "./types.js";
export { REAL_LATENCY_MS } from "./latency.js";
export { DEFAULT_IMAGE_NAME, DEFAULT_IMAGE_FAMILY, DEFAULT_IMAGE_PROJECT } from "./compute/images.js";
export { DiscoveryMissingError } from "./discovery.js";

export interface FakeGcpOptions extends LatencyOptions {
  /** Port to listen on (default: any free port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** The default project (any project id is accepted; this one is the consumer when a call names none). */
  project?: string;
  /** The user in the starting IAM policy (roles/owner). */
  ownerEmail?: string;
  /** The caller operations name as `user`. */
  callerEmail?: string;
  /** Check every response against its discovery schema (500 "fake bug" if it does not fit). Default true. */
  checkResponses?: boolean;
  /** Where the discovery documents are (default: $PILOT_GCP_DISCOVERY_DIR or the moto venv's). */
  discoveryDir?: string;
}

export interface FakeGcp {
  /** Base URL, e.g. "http://127.0.0.1:40123" (give it to googleapis as `rootUrl`). */
  url: string;
  port: number;
  project: string;
  projectNumber: string;
  control: FakeGcpControl;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeGcp(opts: FakeGcpOptions = {}): Promise<FakeGcp> {
  const router = new Router(opts.discoveryDir ?? discoveryDir());
  router.warm(); // fail now, with the one-line "run scripts/services.sh", not in the middle of a test
  const project = opts.project ?? "pilot-test";
  const world = new World({
    project,
    latency: latencySettings(opts),
    callerEmail: opts.callerEmail ?? "pilot@example.com",
    ownerEmail: opts.ownerEmail ?? "owner@example.com",
  });
  const faults = new Faults();
  const log = new RequestLog();
  const control = createControl(world, faults, log);
  const dispatcher = { world, router, faults, log, checkResponses: opts.checkResponses ?? true };

  const server = createServer((req, res) => {
    void (async () => {
      let text: string;
      try {
        text = await readBody(req);
      } catch (e) {
        send(res, 413, { error: { code: 413, message: String(e), status: "INVALID_ARGUMENT" } });
        return;
      }
      const url = new URL(req.url ?? "/", "http://fake.invalid");
      if (url.pathname.startsWith("/__fake")) {
        const r = handleAdmin(control, req.method ?? "GET", url, text);
        send(res, r.status, r.body);
        return;
      }
      const r = await dispatch(dispatcher, { httpMethod: req.method ?? "GET", url, body: text });
      send(res, r.status, r.body);
    })().catch((e) => {
      console.error("gcp fake:", e);
      if (!res.headersSent) send(res, 500, { error: { code: 500, message: String(e), status: "INTERNAL" } });
    });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    project,
    projectNumber: world.projects.numberOf(project),
    control,
    close: () =>
      new Promise<void>((resolve) => {
        world.wakeAll();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
