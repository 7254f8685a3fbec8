/**
 * moto (AWS's API, mocked in Python) for the integration and e2e tiers.
 *
 *   - `moto-global.ts` (vitest globalSetup) starts one `moto_server` on
 *     127.0.0.1 per test run and provides its URL as `motoEndpoint`;
 *   - a test reads it with `inject("motoEndpoint")`, points the SDK at it
 *     with `motoEnv(url)` and clears it between tests with `resetMoto(url)`.
 *
 * The venv comes from `$PILOT_MOTO_VENV` if set, else `.venv/moto` in the
 * repository (git-ignored), created with `python3 -m venv` and
 * `pip install "moto[server]"` on first use.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

declare module "vitest" {
  interface ProvidedContext {
    /** The moto server's base URL, e.g. "http://127.0.0.1:40123". */
    motoEndpoint: string;
  }
}

/** The key under which moto-global provides the endpoint URL. */
export const MOTO_ENDPOINT_KEY = "motoEndpoint";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The environment that sends every AWS SDK client to moto with dummy credentials. */
export function motoEnv(url: string): {
  AWS_ENDPOINT_URL: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
} {
  return { AWS_ENDPOINT_URL: url, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" };
}

/** Clears every resource in moto (all services, all regions). */
export async function resetMoto(url: string): Promise<void> {
  const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

/**
 * Where the Ubuntu 24.04 images "published" by Canonical's account live:
 * `scripts/moto-amis.json`, moto's own `MOTO_AMIS_PATH` format, read once at
 * moto_server start-up in place of its built-in list (which has no noble
 * images), so the provider looks AMIs up by owner and name pattern exactly as
 * on real AWS, with no moto special case. Two amd64 builds, so "newest wins"
 * is exercised too. `npm run demo` (scripts/demo.sh) points moto at the same file.
 */
export const UBUNTU_AMIS_PATH = join(REPO_ROOT, "scripts", "moto-amis.json");

/** The images in UBUNTU_AMIS_PATH. */
export const UBUNTU_TEST_AMIS: { ami_id: string; name: string; architecture: string; creation_date: string }[] = JSON.parse(
  readFileSync(UBUNTU_AMIS_PATH, "utf8"),
);
/** The AMI the provider should pick for an x86_64 instance type (the newest amd64 one). */
export const NEWEST_UBUNTU_AMD64 = "ami-0a0b0c0d0e0f00002";

/** Copies UBUNTU_TEST_AMIS to `file` (for a moto started elsewhere); returns the path. */
export function writeUbuntuAmis(file: string): string {
  writeFileSync(file, JSON.stringify(UBUNTU_TEST_AMIS));
  return file;
}

/**
 * Returns a venv directory holding `bin/moto_server`: `$PILOT_MOTO_VENV`, or
 * `<repo>/.venv/moto`, created and installed on first use (a minute or two).
 * A lock file beside it makes parallel global setups (integration and e2e in
 * one run) wait for one installation instead of racing.
 */
export async function ensureMotoVenv(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const venv = env.PILOT_MOTO_VENV || join(REPO_ROOT, ".venv", "moto");
  const server = join(venv, "bin", "moto_server");
  if (existsSync(server)) return venv;
  mkdirSync(dirname(venv), { recursive: true });
  const lock = `${venv}.lock`;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // A lock older than the deadline was left by a crashed setup: take it over.
      if (Date.now() > deadline || Date.now() - statSync(lock).mtimeMs > 15 * 60_000) {
        rmSync(lock, { force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  try {
    if (existsSync(server)) return venv;
    const run = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
      if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(" ")}\` failed (exit ${r.status ?? r.signal}); is python3-venv installed?`);
    };
    run("python3", ["-m", "venv", venv]);
    run(join(venv, "bin", "pip"), ["install", "--quiet", "moto[server]"]);
    return venv;
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A free TCP port on loopback (bound and released; moto binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** A running moto server. */
export interface MotoServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `moto_server` on a free loopback port and waits until it answers (60 s at most). */
export async function startMoto(venv?: string): Promise<MotoServer> {
  venv ??= await ensureMotoVenv();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(join(venv, "bin", "moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
    // MOTO_AMIS_PATH replaces moto's built-in AMI list with the Canonical-owned noble images above.
    // MOTO_IAM_LOAD_MANAGED_POLICIES: AWS's managed policies exist (`pilot new app --with-db` attaches
    // AmazonECSTaskExecutionRolePolicy, as on AWS); it costs about 0.3 s on the first IAM call after a reset.
    env: { ...process.env, MOTO_AMIS_PATH: UBUNTU_AMIS_PATH, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // moto logs every request to stderr: keep only the tail, for a start-up failure message.
  let tail = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `moto_server exited (${code ?? signal})`;
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`${exited} before answering:\n${tail}`);
    }
    try {
      const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return { url, process: child, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not answer on ${url} within 60 s:\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
