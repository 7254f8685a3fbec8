import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import ssh2 from "ssh2";
import type { ClientChannel, SFTPWrapper } from "ssh2";
import { PilotError, errorText } from "../../errors.js";
import { shellJoin } from "../shell-quote.js";
import type { ExecOptions, ExecResult, Executor } from "../types.js";
import { HostKeyMismatchError, fingerprintOf, knownHostsLine, writeKnownHosts } from "./host-key.js";
import { TIMEOUT_CODE } from "../executor-local.js";

type Client = InstanceType<typeof ssh2.Client>;

/** How to reach and authenticate to the server. */
export interface ConnectSshOptions {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  /** `SHA256:...` pinned in state; any other key is refused. Absent: first contact. */
  pinnedFingerprint?: string;
  /** Where the pin came from, for the refusal's message (default first contact). */
  pinnedSource?: "cloud" | "first-contact";
  /** Called once, on first contact, before any command runs: persist the pin here (state). */
  onFirstContact: (fingerprint: string, knownHostsLine: string) => Promise<void>;
  /** Also keep this OpenSSH known_hosts file (`$stackDir/known_hosts`) in step with the pin. */
  knownHostsFile?: string;
  /** Total time to keep retrying the first connection while the VM boots (default 5 minutes). */
  connectTimeoutMs?: number;
  /** Stage uploads and move them into place with `sudo -n install` (default: when the user is not root). */
  sudoUploads?: boolean;
  /** Told about each failed connection attempt while retrying (progress view). */
  onRetry?: (attempt: number, error: string, delayMs: number) => void;
  /** Counts connections made (benchmarks: a no-op re-run should use one). */
  onConnect?: () => void;
}

/**
 * Errors worth retrying while a VM boots: nothing listening yet, no route
 * yet, sshd up before cloud-init installed our key, handshake cut short.
 */
function isTransient(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException & { level?: string };
  if (err instanceof HostKeyMismatchError) return false;
  if (e?.code && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN"].includes(e.code)) {
    return true;
  }
  const msg = errorText(err);
  return (
    e?.level === "client-authentication" ||
    /Timed out while waiting for handshake|Connection lost before handshake|All configured authentication methods failed|Not connected|socket hang up/i.test(msg)
  );
}

/**
 * Backoff between connection attempts: 1, 2, 4, 8, then 10 s each, until
 * `connectTimeoutMs` (5 min by default; a cloud VM's sshd usually answers
 * within 30-90 s of "running").
 */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Commands over one ssh2 connection, reused for every step; files over SFTP
 * on the same connection. If the connection is gone when a command starts,
 * it reconnects (same host key pin) and runs it. A connection that drops
 * while a command runs fails that command: it may or may not have run, and
 * only the step's check can tell, so the error tells the user to re-run.
 */
export class SshExecutor implements Executor {
  #client: Client | undefined;
  #sftp: SFTPWrapper | undefined;
  #pinned: string | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;
  #privateKey: Buffer | undefined;

  constructor(readonly opts: ConnectSshOptions) {
    this.#pinned = opts.pinnedFingerprint;
  }

  /** The fingerprint the connection verified (pinned or just pinned). */
  get fingerprint(): string | undefined {
    return this.#pinned;
  }

  /** Connects (with retries) if not connected. */
  async connect(): Promise<void> {
    await this.#ensure();
  }

  async #ensure(): Promise<Client> {
    if (this.#closed) throw new PilotError("SSH executor already closed");
    if (this.#client) return this.#client;
    if (!this.#connecting) {
      this.#connecting = this.#connectWithRetry().finally(() => (this.#connecting = undefined));
    }
    return this.#connecting;
  }

  async #connectWithRetry(): Promise<Client> {
    const budget = this.opts.connectTimeoutMs ?? 5 * 60_000;
    const deadline = Date.now() + budget;
    this.#privateKey ??= await readFile(this.opts.privateKeyPath);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#connectOnce();
      } catch (err) {
        const delay = backoffMs(attempt);
        if (!isTransient(err) || Date.now() + delay > deadline) {
          if (err instanceof PilotError) throw err;
          throw new PilotError(`SSH to ${this.opts.username}@${this.opts.host}:${this.opts.port}: ${errorText(err)}`, {
            cause: err,
            hint: isTransient(err)
              ? `Gave up after ${Math.round(budget / 1000)} s. Check that the server is running and that your address is allowed to reach port ${this.opts.port}.`
              : undefined,
          });
        }
        this.opts.onRetry?.(attempt, errorText(err), delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  #connectOnce(): Promise<Client> {
    const { host, port, username } = this.opts;
    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      let hostKeyError: Error | undefined;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(hostKeyError ?? err);
      };
      client.on("ready", () => {
        if (settled) return;
        settled = true;
        this.#client = client;
        this.opts.onConnect?.();
        resolve(client);
      });
      client.on("error", fail);
      client.on("close", () => {
        if (this.#client === client) {
          this.#client = undefined;
          this.#sftp = undefined;
        }
        fail(new Error("Connection lost before handshake"));
      });
      client.connect({
        host,
        port,
        username,
        privateKey: this.#privateKey,
        readyTimeout: 20_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          const fp = fingerprintOf(key);
          const line = knownHostsLine(host, port, key);
          if (this.#pinned !== undefined) {
            if (fp !== this.#pinned) {
              hostKeyError = new HostKeyMismatchError(host, port, this.#pinned, fp, this.opts.pinnedSource);
              verify(false);
              return;
            }
            if (this.opts.knownHostsFile) writeKnownHosts(this.opts.knownHostsFile, line);
            verify(true);
            return;
          }
          // First contact: persist the pin before accepting, so a crash right after cannot lose it.
          this.opts
            .onFirstContact(fp, line)
            .then(() => {
              this.#pinned = fp;
              if (this.opts.knownHostsFile) writeKnownHosts(this.opts.knownHostsFile, line);
              verify(true);
            })
            .catch((err: unknown) => {
              hostKeyError = err instanceof Error ? err : new Error(String(err));
              verify(false);
            });
        },
      } as ssh2.ConnectConfig);
    });
  }

  async run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const line = shellJoin(argv);
    let client = await this.#ensure();
    let channel: ClientChannel;
    try {
      channel = await this.#exec(client, line);
    } catch (err) {
      // The connection died between commands (idle drop, sshd restart): nothing ran, so reconnect once and run it.
      this.#drop(client);
      client = await this.#ensure();
      channel = await this.#exec(client, line);
    }
    return this.#collect(channel, line, opts);
  }

  #exec(client: Client, line: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        const ok = client.exec(line, (err, ch) => (err ? reject(err) : resolve(ch)));
        void ok;
      } catch (err) {
        reject(err);
      }
    });
  }

  #collect(channel: ClientChannel, line: string, opts: ExecOptions): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      let code: number | undefined;
      let timedOut = false;
      const stop = () => {
        timedOut = true;
        channel.close();
      };
      const timer = opts.timeoutMs ? setTimeout(stop, opts.timeoutMs) : undefined;
      if (opts.signal?.aborted) stop();
      else opts.signal?.addEventListener("abort", stop, { once: true });
      channel.setEncoding("utf8");
      channel.stderr.setEncoding("utf8");
      channel.on("data", (d: string) => {
        stdout += d;
        opts.onOutput?.(d, "stdout");
      });
      channel.stderr.on("data", (d: string) => {
        stderr += d;
        opts.onOutput?.(d, "stderr");
      });
      channel.on("exit", (c: number | null) => {
        if (typeof c === "number") code = c;
      });
      channel.on("close", () => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", stop);
        if (timedOut) return resolve({ code: TIMEOUT_CODE, stdout, stderr });
        if (code === undefined) {
          // No exit status: the connection (or sshd's session process) went away mid-command.
          this.#dropCurrent();
          return reject(
            new PilotError(`SSH connection lost while running \`${line}\`; it may or may not have completed.`, {
              hint: "Run the command again: every bootstrap step checks first and only does what is missing.",
            }),
          );
        }
        resolve({ code, stdout, stderr });
      });
      channel.on("error", () => {
        /* surfaces as close without an exit status */
      });
      channel.end(opts.stdin ?? "");
    });
  }

  #drop(client: Client): void {
    if (this.#client === client) {
      this.#client = undefined;
      this.#sftp = undefined;
    }
    client.end();
  }

  #dropCurrent(): void {
    if (this.#client) this.#drop(this.#client);
  }

  async #sftpSession(): Promise<SFTPWrapper> {
    const client = await this.#ensure();
    if (this.#sftp) return this.#sftp;
    const open = (c: Client) => new Promise<SFTPWrapper>((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
    let sftp: SFTPWrapper;
    try {
      sftp = await open(client);
    } catch {
      this.#drop(client);
      sftp = await open(await this.#ensure());
    }
    this.#sftp = sftp;
    return sftp;
  }

  /**
   * Writes a file over SFTP. Paths the SSH user cannot write (/etc/...) are
   * staged in its home directory with mode 0600 and moved into place with
   * `sudo -n install`, which sets owner root and the final mode in one go.
   */
  async upload(path: string, content: string | Buffer, mode: number): Promise<void> {
    const sftp = await this.#sftpSession();
    const data = typeof content === "string" ? Buffer.from(content) : content;
    const useSudo = this.opts.sudoUploads ?? this.opts.username !== "root";
    const target = useSudo ? `.pilot-upload-${randomBytes(8).toString("hex")}` : path;
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(target, data, { mode: useSudo ? 0o600 : mode }, (err) => (err ? reject(err) : resolve())),
    );
    if (!useSudo) {
      await new Promise<void>((resolve, reject) => sftp.chmod(target, mode, (err) => (err ? reject(err) : resolve())));
      return;
    }
    const mv = await this.run(["sudo", "-n", "install", "-m", mode.toString(8).padStart(4, "0"), "-o", "root", "-g", "root", target, path]);
    await this.run(["rm", "-f", target]);
    if (mv.code !== 0) throw new PilotError(`upload ${path}: sudo install exited ${mv.code}: ${mv.stderr.trim()}`);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#client;
    this.#client = undefined;
    this.#sftp = undefined;
    if (!c) return;
    await new Promise<void>((resolve) => {
      c.once("close", () => resolve());
      c.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}

/** Opens the connection (retrying while the VM boots) and returns the executor. */
export async function connectSsh(opts: ConnectSshOptions): Promise<SshExecutor> {
  const exec = new SshExecutor(opts);
  await exec.connect();
  return exec;
}
