/**
 * An HTTP proxy on loopback in front of moto that makes a share of AWS API
 * calls fail the ways real networks and real AWS do (issue 8, point 10):
 *
 *   - throttle: answered at once with the service's throttling error in its
 *     own protocol (EC2: 503 RequestLimitExceeded; IAM, RDS, STS: 400
 *     Throttling), never forwarded;
 *   - 5xx: answered at once with a server error (EC2: 500 InternalError;
 *     others: 503 ServiceUnavailable), never forwarded;
 *   - drop: forwarded to moto, its whole answer awaited, and then the client's
 *     socket destroyed, so the call took effect but the caller never hears so
 *     (the lost answer that leaves a duplicate);
 *   - hang: forwarded and answered by moto, but the answer is never passed on
 *     and the connection stays open: only the client's own timeout ends it.
 *
 * Decisions are seeded: each is a hash of the seed, the action and how many
 * calls of that action came before, so a failing seed replays the same faults
 * on the same calls (parallel creates of one action may trade places). No
 * action is faulted more than `maxConsecutive` times in a row, so the SDK's
 * five attempts always get through and a run can complete.
 *
 * moto ignores EC2's ClientToken; real EC2 answers a repeated token with the
 * first answer. The proxy does that for moto (a tokened create whose answer
 * was dropped is answered from the cache when the SDK retries), so a test
 * sees what AWS would do and no duplicate AWS itself would prevent.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { actionOf } from "../../bench/api-counter.js";
import { listenOnLoopback } from "./loopback-server.js";

export { actionOf };

/** What a fault did to one call. */
export type FaultMode = "throttle" | "5xx" | "drop" | "hang";

/** Shares of calls (0..1) that get each fault; the rest pass untouched. */
export interface FaultRates {
  throttle?: number;
  "5xx"?: number;
  drop?: number;
  hang?: number;
}

export interface FaultProxyOptions {
  seed: number;
  rates: FaultRates;
  /** Only calls this accepts are faulted (default: every AWS call); `occurrence` counts calls of the action from 1. */
  only?: (action: string, occurrence: number) => boolean;
  /** At most this many faults in a row per action (default 2, under the SDK's 5 attempts). */
  maxConsecutive?: number;
}

/** One faulted call, in order. */
export interface FaultRecord {
  action: string;
  mode: FaultMode;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** The proxy's base URL, e.g. "http://127.0.0.1:40123": use as AWS_ENDPOINT_URL. */
  url: string;
  /** Every fault so far, in order. */
  faults(): FaultRecord[];
  /** Calls by action seen so far (faulted or not), e.g. {CreateVpc: 2}. */
  calls(): Record<string, number>;
  /** Tokened creates answered from the ClientToken cache (as EC2 would), by action. */
  replays(): Record<string, number>;
  /** Changes seed and rates from the next call on; counters and caches start over. */
  reset(opts?: Partial<FaultProxyOptions>): void;
  close(): Promise<void>;
}

/**
 * Calls whose answer is never dropped: moto mishandles their repeat where AWS
 * does not. RemoveRoleFromInstanceProfile sent again for a role already
 * removed gets a 500 HTML page from moto; IAM answers NoSuchEntity, which
 * Pilot takes as done.
 */
export const NEVER_DROPPED = new Set(["RemoveRoleFromInstanceProfile"]);

/** True for a call that creates something (a dropped answer there may leave a duplicate). */
export function isCreateAction(action: string): boolean {
  return /^(Create|Allocate|Import|RunInstances$)/.test(action);
}

/** A uniform number in [0, 1) from the seed, the action and its occurrence: the same inputs, the same fault. */
export function faultRoll(seed: number, action: string, occurrence: number): number {
  const digest = createHash("sha256").update(`${seed}\0${action}\0${occurrence}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** The fault (or none) for a roll, given the rates: throttle, then 5xx, drop and hang, each a slice of [0, 1). */
export function faultFor(roll: number, rates: FaultRates): FaultMode | undefined {
  let edge = 0;
  for (const mode of ["throttle", "5xx", "drop", "hang"] as const) {
    edge += rates[mode] ?? 0;
    if (roll < edge) return mode;
  }
  return undefined;
}

/** The AWS API version a query-protocol request names: EC2 is 2016-11-15, which alone has its own error shape. */
function isEc2(body: string, path: string): boolean {
  const query = path.includes("?") ? path.slice(path.indexOf("?") + 1) : "";
  return new URLSearchParams(body).get("Version") === "2016-11-15" || new URLSearchParams(query).get("Version") === "2016-11-15";
}

/** The error answer for a throttle or 5xx, in the protocol of the request. */
export function faultAnswer(mode: "throttle" | "5xx", headers: IncomingHttpHeaders, body: string, path: string): { status: number; headers: OutgoingHttpHeaders; body: string } {
  const id = randomUUID();
  if (typeof headers["x-amz-target"] === "string") {
    const type = mode === "throttle" ? "ThrottlingException" : "ServiceUnavailableException";
    return {
      status: mode === "throttle" ? 400 : 503,
      headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": id },
      body: JSON.stringify({ __type: type, message: `fault-proxy: ${mode}` }),
    };
  }
  if (isEc2(body, path)) {
    const [status, code] = mode === "throttle" ? [503, "RequestLimitExceeded"] : [500, "InternalError"];
    return {
      status,
      headers: { "content-type": "text/xml;charset=UTF-8" },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>fault-proxy: ${mode}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`,
    };
  }
  const [status, type, code] = mode === "throttle" ? [400, "Sender", "Throttling"] : [503, "Receiver", "ServiceUnavailable"];
  return {
    status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": id },
    body: `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>fault-proxy: ${mode}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
  };
}

/** Starts the proxy on a free loopback port, forwarding to `target` (moto's URL). */
export async function startFaultProxy(target: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(target);
  let opts: FaultProxyOptions = { ...options };
  let seen: Record<string, number> = {};
  let inARow: Record<string, number> = {};
  let faults: FaultRecord[] = [];
  let replays: Record<string, number> = {};
  /** EC2 ClientToken → the first answer sent for it (action and token together, as EC2 keys them per call). */
  let tokens = new Map<string, Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>>();

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = request(
        { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          const chunks: Buffer[] = [];
          up.on("data", (c: Buffer) => chunks.push(c));
          up.on("end", () => resolve({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(chunks) }));
          up.on("error", reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const send = (res: ServerResponse, answer: { status: number; headers: IncomingHttpHeaders | OutgoingHttpHeaders; body: Buffer | string }) => {
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    delete headers["content-length"];
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const text = body.toString("utf8");
        const path = req.url ?? "/";
        const action = actionOf(req.method ?? "GET", path, req.headers, text);
        const moto = path.startsWith("/moto-api");
        const occurrence = (seen[action] = (seen[action] ?? 0) + 1);
        const eligible = !moto && (opts.only ? opts.only(action, occurrence) : true);
        let mode = eligible ? faultFor(faultRoll(opts.seed, action, occurrence), opts.rates) : undefined;
        if ((mode === "drop" || mode === "hang") && NEVER_DROPPED.has(action)) mode = undefined;
        if (mode && (inARow[action] ?? 0) >= (opts.maxConsecutive ?? 2)) mode = undefined;
        inARow[action] = mode ? (inARow[action] ?? 0) + 1 : 0;
        if (mode) faults.push({ action, mode });

        if (mode === "throttle" || mode === "5xx") {
          send(res, faultAnswer(mode, req.headers, text, path));
          return;
        }
        const token = !moto && isEc2(text, path) ? new URLSearchParams(text).get("ClientToken") : null;
        let answer: { status: number; headers: IncomingHttpHeaders; body: Buffer };
        if (token) {
          const key = `${action}\0${token}`;
          const cached = tokens.get(key);
          if (cached) replays[action] = (replays[action] ?? 0) + 1;
          const pending = cached ?? forward(req, body);
          if (!cached) tokens.set(key, pending);
          answer = await pending;
          // Only a success is idempotent on EC2; an error answer does not bind the token.
          if (!cached && answer.status >= 300) tokens.delete(key);
        } else {
          answer = await forward(req, body);
        }
        if (mode === "drop") {
          // It took effect; the caller never hears so.
          req.socket.destroy();
          return;
        }
        // It took effect; the answer never comes, and the connection stays open until the caller gives up.
        if (mode === "hang") return;
        send(res, answer);
      })().catch((err: Error) => {
        if (res.headersSent) return void req.socket.destroy();
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`fault-proxy: upstream error: ${err.message}`);
      });
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    faults: () => [...faults],
    calls: () => ({ ...seen }),
    replays: () => ({ ...replays }),
    reset(next = {}) {
      opts = { ...opts, ...next };
      seen = {};
      inARow = {};
      faults = [];
      replays = {};
      tokens = new Map();
    },
    close: listener.close,
  };
}
