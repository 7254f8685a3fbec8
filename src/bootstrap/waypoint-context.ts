import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

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
