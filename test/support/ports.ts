import { createServer, type Server } from "node:net";

/**
 * `n` distinct loopback ports that were free a moment ago: all are held open
 * until the last is found, so two calls cannot hand out the same one (a
 * stack refuses the same port for gRPC and UI).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
