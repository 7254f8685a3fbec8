/**
 * The tests' HTTP stand-ins and proxies (bench/api-counter.ts,
 * test/support/fault-proxy.ts, test/support/console-proxy.ts) all listen the
 * same way: a free port on 127.0.0.1, and a close that does not wait for
 * keep-alive connections the SDK holds open.
 */
import type { Server } from "node:http";

/** Where a server listens, and how to stop it. */
export interface LoopbackListener {
  /** "http://127.0.0.1:PORT" */
  url: string;
  close(): Promise<void>;
}

/** Starts `server` on a free loopback port. */
export async function listenOnLoopback(server: Server): Promise<LoopbackListener> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
