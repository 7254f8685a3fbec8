/**
 * An HTTPS proxy on loopback that answers AWS API calls from moto, for
 * programs that cannot be pointed at another endpoint: Waypoint's aws-ecs
 * plugin uses aws-sdk-go v1 (1.44), which has no AWS_ENDPOINT_URL, but
 * honours HTTPS_PROXY, and Go on Linux trusts the CA in SSL_CERT_FILE.
 *
 * A CONNECT to any host is accepted and its TLS terminated with a
 * certificate for `*.<region>.amazonaws.com` and `*.amazonaws.com` (IAM, STS)
 * signed by a CA made for the test (src/tls, the stack CA's own code); each
 * request inside is forwarded to moto as it came, Host header included
 * (moto tells services apart by the request's signature and host). Nothing
 * here can reach the internet: a host outside those names fails the client's
 * certificate check.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { readFileSync } from "node:fs";
import { TLSSocket } from "node:tls";
import { ensureStackTls, tlsPaths } from "../../src/tls/index.js";
import { listenOnLoopback } from "./loopback-server.js";

export interface AwsTlsProxy {
  /** "http://127.0.0.1:PORT", for HTTPS_PROXY. */
  url: string;
  /** The CA's certificate file, for SSL_CERT_FILE. */
  caFile: string;
  /** The proxy's certificate and key, also valid for the extra names asked for (a test's own server may use them). */
  certFile: string;
  keyFile: string;
  /** "Service.Action" (or the query's Action) of every call, in order. */
  calls: string[];
  close(): Promise<void>;
}

/** Starts the proxy in front of `motoUrl`; `dir` keeps its CA and certificate, which also names `alsoFor`. */
export async function startAwsTlsProxy(motoUrl: string, dir: string, regions: string[], alsoFor: string[] = []): Promise<AwsTlsProxy> {
  await ensureStackTls(dir, [...regions.map((r) => `*.${r}.amazonaws.com`), "*.amazonaws.com", ...alsoFor]);
  const paths = tlsPaths(dir);
  const key = readFileSync(paths.serverKey, "utf8");
  const cert = readFileSync(paths.serverCert, "utf8");
  const moto = new URL(motoUrl);
  const calls: string[] = [];

  // The requests inside each tunnel: forwarded to moto unchanged.
  const inner = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const target = req.headers["x-amz-target"];
      calls.push(typeof target === "string" ? target : (/(?:^|&)Action=([^&]+)/.exec(body.toString())?.[1] ?? `${req.method} ${req.url}`));
      const fwd = request({ host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      fwd.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      fwd.end(body);
    });
  });
  const proxy = createServer((_req, res) => {
    res.writeHead(405);
    res.end("CONNECT only");
  });
  proxy.on("connect", (_req: IncomingMessage, socket: Socket) => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    const tls = new TLSSocket(socket, { isServer: true, key, cert });
    tls.on("error", () => socket.destroy());
    inner.emit("connection", tls);
  });
  const listener = await listenOnLoopback(proxy);
  return {
    url: listener.url,
    caFile: paths.caCert,
    certFile: paths.serverCert,
    keyFile: paths.serverKey,
    calls,
    close: async () => {
      inner.closeAllConnections();
      await listener.close();
    },
  };
}
