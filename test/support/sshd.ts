/**
 * A real OpenSSH server on 127.0.0.1:<free port> standing in for the cloud
 * VM (TESTING.md "An SSH server"). The "VM" is this machine: its dockerd.
 * A test user with passwordless sudo plays the cloud image's `ubuntu`.
 *
 * Needs root (sshd must switch users), /usr/sbin/sshd (openssh-server),
 * sudo and ssh-keygen. Fails with a clear message if any is missing; it
 * never skips.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerAccess } from "../../src/providers/types.js";

export const TEST_USER = "pilot-e2e";
const SSHD = "/usr/sbin/sshd";

/** A running test sshd. */
export interface TestSshd {
  host: string;
  port: number;
  user: string;
  /** The client's private key (ed25519, 0600). */
  privateKeyPath: string;
  dir: string;
  /** `SHA256:...` of the current host key, as `ssh-keygen -lf` prints it. */
  fingerprint(): string;
  access(): ServerAccess;
  /** Logins accepted so far (sshd's "Accepted publickey" lines, across restarts): a connection refused at the host key check adds none. */
  accepted(): number;
  /** Kills every per-connection sshd process and its session: established connections drop, the listener stays. */
  dropConnections(): void;
  /** Stops and starts the listener on the same port, optionally with a freshly generated host key. */
  restart(opts?: { newHostKey?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

function fail(msg: string): never {
  throw new Error(`test sshd: ${msg}`);
}

/** A free TCP port on loopback (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) fail(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Creates the test user (idempotent): a login shell, no password but not locked, passwordless sudo. */
function ensureTestUser(user: string): void {
  try {
    run("id", [user]);
  } catch {
    run("useradd", ["--create-home", "--shell", "/bin/sh", user]);
  }
  // "*": no password can match, but the account is not "locked" ("!"), which sshd would refuse.
  run("usermod", ["-p", "*", user]);
  const sudoers = `/etc/sudoers.d/${user}`;
  writeFileSync(sudoers, `${user} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  chmodSync(sudoers, 0o440);
}

/** Starts sshd for the test user. Generates the host and client keys for this run. */
export async function startSshd(): Promise<TestSshd> {
  if (process.getuid?.() !== 0) fail("must run as root (sshd switches to the test user); CI runs the e2e tier as root");
  if (!existsSync(SSHD)) fail(`${SSHD} not found: apt-get install -y openssh-server`);
  for (const tool of ["sudo", "ssh-keygen"]) {
    try {
      run("sh", ["-c", `command -v ${tool}`]);
    } catch {
      fail(`${tool} not found: apt-get install -y ${tool === "sudo" ? "sudo" : "openssh-client"}`);
    }
  }
  ensureTestUser(TEST_USER);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege-separation dir

  const dir = mkdtempSync(join(tmpdir(), "pilot-sshd-"));
  chmodSync(dir, 0o755); // the user's sshd child reads authorized_keys from here
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "id_ed25519");
  const genHostKey = () => {
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pilot-e2e-host", "-f", hostKey]);
  };
  genHostKey();
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pilot-e2e-client", "-f", clientKey]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${clientKey}.pub`), { mode: 0o644 });

  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      // The key lives under /tmp (world-writable), which StrictModes would reject.
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "PermitRootLogin no",
      `AllowUsers ${TEST_USER}`,
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );

  let child: ChildProcess | undefined;
  let log = "";
  let accepted = 0;
  const start = async () => {
    // -D: stay in the foreground as our child (we own its pid); -e: log to stderr.
    child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let partial = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      // Count whole lines only: a chunk may end mid-line.
      const lines = (partial + d).split("\n");
      partial = lines.pop()!;
      accepted += lines.filter((l) => l.includes("Accepted publickey for ")).length;
      log = (log + d).slice(-20_000);
    });
    const exited = new Promise<never>((_, reject) =>
      child!.once("exit", (code) => reject(new Error(`test sshd exited with ${code}: ${log}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port, 10_000), exited]);
  };
  const childrenOf = (pid: number): number[] => {
    try {
      return run("pgrep", ["-P", String(pid)]).split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return []; // pgrep exits 1 when there are none
    }
  };
  // Every descendant of the listener: per connection OpenSSH runs a privileged monitor, an unprivileged
  // child that owns the socket after authentication, and the session's command below it.
  const descendantsOf = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...descendantsOf(c)]);
  const dropConnections = () => {
    if (!child?.pid) return;
    for (const pid of descendantsOf(child.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  };
  const stopListener = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const done = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await done;
  };

  await start();
  return {
    host: "127.0.0.1",
    port,
    user: TEST_USER,
    privateKeyPath: clientKey,
    dir,
    fingerprint: () => run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${hostKey}.pub`]).split(/\s+/)[1]!,
    access: () => ({ host: "127.0.0.1", port, user: TEST_USER, privateKeyPath: clientKey, publicAddress: "127.0.0.1" }),
    accepted: () => accepted,
    dropConnections,
    async restart(opts = {}) {
      dropConnections();
      await stopListener();
      if (opts.newHostKey) genHostKey();
      await start();
    },
    async stop() {
      dropConnections();
      await stopListener();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
