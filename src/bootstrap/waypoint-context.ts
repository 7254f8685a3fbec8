import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, extname, join } from "node:path";

/** Where and what to write for the user's own `waypoint` CLI. */
export interface WaypointContextOptions {
  /** Stack name; the context is called `pilot-<stack>`. */
  stack: string;
  /** gRPC address clients use, `host:9701`. */
  address: string;
  token: string;
  /** The stack's CA certificate (`$stackDir/tls/ca.pem`). */
  caPath: string;
  /** Waypoint's config folder; default as Waypoint computes it (adrg/xdg). */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/**
 * Waypoint's config folder, as the CLI finds it (`xdg.ConfigFile("waypoint/...")`):
 * `$XDG_CONFIG_HOME/waypoint` or `~/.config/waypoint` on Linux,
 * `~/Library/Application Support/waypoint` on macOS, `%APPDATA%\waypoint` on Windows.
 */
export function waypointConfigDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "waypoint");
  if (platform === "darwin") return join(homedir(), "Library", "Application Support", "waypoint");
  if (platform === "win32" && env.APPDATA) return join(env.APPDATA, "waypoint");
  return join(homedir(), ".config", "waypoint");
}

/** HCL string literal (Waypoint's context files are HCL). */
function hclString(s: string): string {
  return JSON.stringify(s).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
}

/**
 * Writes a Waypoint CLI context `pilot-<stack>` so a user who has the
 * `waypoint` CLI installed can use the server directly (`waypoint context
 * use pilot-<stack>`); Pilot itself never needs it. The file holds the auth
 * token, so it is 0600. TLS is verified (tls_skip_verify = false): Waypoint's
 * CLI trusts the system roots, so it must be pointed at the stack's CA with
 * SSL_CERT_FILE (Linux); on macOS add the CA to the keychain instead. The
 * returned `hint` says so.
 */
export function writeWaypointContext(o: WaypointContextOptions): { path: string; name: string; hint: string } {
  const dir = join(o.configDir ?? waypointConfigDir(o.env, o.platform), "context");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = `pilot-${o.stack}`;
  const path = join(dir, `${name}.hcl`);
  const text = [
    "# Written by Pilot. TLS is verified against the stack's CA:",
    `#   export SSL_CERT_FILE=${o.caPath}`,
    "server {",
    `  address         = ${hclString(o.address)}`,
    "  tls             = true",
    "  tls_skip_verify = false",
    "  require_auth    = true",
    `  auth_token      = ${hclString(o.token)}`,
    '  platform        = "docker"',
    "}",
    "",
  ].join("\n");
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
  const platform = o.platform ?? process.platform;
  const hint =
    platform === "darwin"
      ? `waypoint context use ${name} (first trust ${o.caPath}: security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db ${o.caPath})`
      : `SSL_CERT_FILE=${o.caPath} waypoint context use ${name}`;
  return { path, name, hint };
}

/**
 * The name of the Waypoint CLI's default context, read as Waypoint 0.11.4
 * reads it (internal/clicontext/storage.go `Default`): `context/_default.hcl`
 * is a symlink to the context's file, whose base name without extension is
 * the name, or, where symlinks fail, a plain file holding the name.
 * Undefined when there is no default.
 */
export function waypointDefaultContext(contextDir: string): string | undefined {
  const path = join(contextDir, "_default.hcl");
  let isLink: boolean;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (isLink) {
    const target = basename(readlinkSync(path));
    return target.slice(0, target.length - extname(target).length);
  }
  return readFileSync(path, "utf8");
}

/**
 * Removes the stack's context `pilot-<stack>` as `waypoint context delete`
 * does (storage.go `Delete`): the file, then the default pointer if it named
 * this context. A default left aimed at a deleted file makes every
 * `waypoint` command fail ("Configuration file not found"), so it goes
 * rather than being pointed at some other context the user did not choose.
 * Returns whether the default was unset, so the user can be told.
 */
export function removeWaypointContext(o: { stack: string; configDir?: string; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): { defaultUnset: boolean } {
  const dir = join(o.configDir ?? waypointConfigDir(o.env, o.platform), "context");
  const name = `pilot-${o.stack}`;
  rmSync(join(dir, `${name}.hcl`), { force: true });
  if (waypointDefaultContext(dir) !== name) return { defaultUnset: false };
  rmSync(join(dir, "_default.hcl"), { force: true });
  return { defaultUnset: true };
}
