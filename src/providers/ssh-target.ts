/** Where SSH goes: the server's own address, unless a development override says otherwise. */

/** An SSH endpoint: host, port and login user. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

/**
 * `PILOT_SSH_TARGET=[user@]host[:port]` sends SSH elsewhere (tests and
 * development: a local sshd stands in for the VM while the stack itself lives
 * in moto or the GCP fake). Without it, the server's own endpoint.
 */
export function sshTarget(env: NodeJS.ProcessEnv, server: SshEndpoint): SshEndpoint {
  const target = env.PILOT_SSH_TARGET;
  if (!target) return server;
  const m = /^(?:([^@]+)@)?(.+?)(?::(\d+))?$/.exec(target.trim());
  if (!m) return server;
  return {
    user: m[1] ?? server.user,
    host: m[2]!.replace(/^\[(.*)\]$/, "$1"),
    port: m[3] ? Number(m[3]) : server.port,
  };
}
