import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PilotError } from "../../errors.js";
import type { ServerAccess } from "../../providers/types.js";
import type { ServerState } from "../../state/schema.js";

/** The flag the CLI exposes to accept a legitimately changed host key (calls forgetHostKey, then reconnects). */
export const ACCEPT_NEW_HOST_KEY_FLAG = "--accept-new-host-key";

/** OpenSSH's fingerprint of a host key blob (`ssh-keygen -lf`): `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type written at the start of an SSH public key blob (e.g. "ssh-ed25519"). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) throw new Error("host key blob too short");
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString("latin1");
}

/** How OpenSSH names a host in known_hosts: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** One known_hosts line for the key: `NAME TYPE BASE64`. */
export function knownHostsLine(host: string, port: number, keyBlob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(keyBlob)} ${keyBlob.toString("base64")}`;
}

/** `$stackDir/known_hosts`: the pinned key in OpenSSH's format, for `pilot server --ssh`. */
export function knownHostsPath(stackDir: string): string {
  return join(stackDir, "known_hosts");
}

/** Writes the stack's known_hosts (one server per stack, so the file is replaced), mode 0600. */
export function writeKnownHosts(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${line}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * Forgets the pinned host key after a legitimate rebuild: removes
 * `$stackDir/known_hosts` and, when given, the fingerprint from the stack's
 * server state (call inside the state store's update). The next connection
 * pins whatever key the server presents, so call it only on the user's
 * explicit request (`pilot up-server --accept-new-host-key`).
 */
export function forgetHostKey(stackDir: string, server?: ServerState): void {
  rmSync(knownHostsPath(stackDir), { force: true });
  if (server) {
    delete server.hostKeyFingerprint;
    delete server.hostKeySource;
  }
}

/** SHA256 fingerprint of an OpenSSH public key line ("ssh-ed25519 AAAA... comment"). */
export function fingerprintOfLine(line: string): string {
  const [, base64] = line.trim().split(/\s+/);
  if (!base64) throw new Error("not an OpenSSH public key line");
  return fingerprintOf(Buffer.from(base64, "base64"));
}

/** The server presented a different host key than the one pinned in state. */
export class HostKeyMismatchError extends PilotError {
  constructor(readonly host: string, readonly port: number, readonly pinned: string, readonly presented: string, readonly source: "cloud" | "first-contact" = "first-contact") {
    super(
      source === "cloud"
        ? `The SSH host key of ${knownHostsName(host, port)} is not the one the cloud published for the server: ` +
            `the cloud says ${pinned}, the server presents ${presented}. Pilot did not connect.`
        : `The SSH host key of ${knownHostsName(host, port)} changed: Pilot pinned ${pinned} on first contact, ` +
            `but the server now presents ${presented}. Pilot did not connect.`,
      {
        hint:
          "If you rebuilt or replaced the server on purpose (a new VM has a new host key), accept the new key with " +
          `\`pilot up-server ${ACCEPT_NEW_HOST_KEY_FLAG}\`. If you did not, do not accept it: someone may be ` +
          "intercepting the connection; check the server's console output for its real fingerprint first.",
      },
    );
    this.name = "HostKeyMismatchError";
  }
}

/**
 * argv for OpenSSH's client to open a shell on the server with the pinned
 * key only: the stack's own known_hosts, strict checking (never trust on
 * first use here: Pilot pinned the key already), the stack's private key.
 */
export function sshCommandArgs(access: ServerAccess, stackDir: string): string[] {
  return [
    "ssh",
    "-i", access.privateKeyPath,
    "-p", String(access.port),
    "-o", "IdentitiesOnly=yes",
    "-o", `UserKnownHostsFile=${knownHostsPath(stackDir)}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes",
    "-o", "UpdateHostKeys=no",
    `${access.user}@${access.host}`,
  ];
}
