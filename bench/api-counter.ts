/**
 * A tiny HTTP proxy on loopback in front of moto that counts AWS API calls by
 * action (and can add latency, so a run lasts long enough to race it).
 *
 * EC2, RDS, IAM and STS speak the query protocol: the action is the form
 * field `Action=...` of a POST body (or of the query string of a GET). JSON
 * protocols name it in `X-Amz-Target`; anything else counts as "METHOD path".
 * Point the CLI at it with AWS_ENDPOINT_URL=<proxy url>.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { listenOnLoopback } from "../test/support/loopback-server.js";

/** A running counting proxy. */
export interface ApiCounter {
  /** The proxy's base URL, e.g. "http://127.0.0.1:40123". */
  url: string;
  /** Calls by action since the last reset, e.g. {DescribeVpcs: 1}. */
  counts(): Record<string, number>;
  /** Total calls since the last reset. */
  total(): number;
  reset(): void;
  /** Latency added before each request is forwarded (ms). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** The API action of one request (see the module comment). */
export function actionOf(method: string, path: string, headers: IncomingHttpHeaders, body: string): string {
  const target = headers["x-amz-target"];
  if (typeof target === "string" && target) return target.split(".").pop()!;
  const query = path.includes("?") ? path.slice(path.indexOf("?") + 1) : "";
  for (const text of [body, query]) {
    const action = new URLSearchParams(text).get("Action");
    if (action) return action;
  }
  return `${method} ${path.split("?")[0]}`;
}

/** Starts the proxy on a free loopback port, forwarding to `target` (moto's URL). */
export async function startApiCounter(target: string, opts: { delayMs?: number } = {}): Promise<ApiCounter> {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  let delay = opts.delayMs ?? 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const action = actionOf(req.method ?? "GET", req.url ?? "/", req.headers, body.toString("utf8"));
      counts[action] = (counts[action] ?? 0) + 1;
      const forward = () => {
        const out = request(
          { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        out.on("error", (err) => {
          res.writeHead(502, { "content-type": "text/plain" });
          res.end(`api-counter: upstream error: ${err.message}`);
        });
        out.end(body);
      };
      if (delay > 0) setTimeout(forward, delay);
      else forward();
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    reset: () => {
      counts = {};
    },
    setDelay: (ms) => {
      delay = ms;
    },
    close: listener.close,
  };
}
