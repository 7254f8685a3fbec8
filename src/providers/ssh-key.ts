/**
 * The stack's own SSH key: ed25519, generated locally, 0600, never rotated
 * by a re-run. Every cloud provider puts its public half on the server.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import ssh2 from "ssh2";
import { writeFileAtomic } from "../atomic-write.js";
import { PilotError } from "../errors.js";

/** Where the stack's SSH key lives inside the stack folder. */
export const SSH_KEY_FILE = "id_ed25519";

// ssh2 is CommonJS without named-export hints: Node's ESM loader only offers its default export.
const sshUtils = ssh2.utils;

/** The public half (`ssh-ed25519 AAAA... comment`), or "" before the key exists (a dry run before the first prepare). */
export function readPublicKey(path: string): string {
  try {
    return readFileSync(`${path}.pub`, "utf8").trim();
  } catch {
    return "";
  }
}

/**
 * Makes the stack's ed25519 key pair once: `id_ed25519` (OpenSSH format, 0600)
 * and `id_ed25519.pub`. An existing private key is kept (its public half is
 * re-derived if the .pub file went missing), so re-runs never rotate the key.
 */
export function ensureSshKey(path: string, stack: string): void {
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    if (!existsSync(`${path}.pub`)) {
      const parsed = sshUtils.parseKey(readFileSync(path));
      if (parsed instanceof Error) throw new PilotError(`The SSH key ${path} cannot be read: ${parsed.message}.`, { hint: "Move it away and run again to generate a new one." });
      writeFileSync(`${path}.pub`, `${parsed.type} ${parsed.getPublicSSH().toString("base64")} pilot-${stack}\n`, { mode: 0o644 });
    }
    return;
  }
  const pair = generateEd25519(`pilot-${stack}`);
  // "wx": never overwrite a key another process wrote in the meantime.
  writeFileSync(path, pair.private, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  writeFileAtomic(`${path}.pub`, `${pair.public.trim()}\n`, 0o644);
}

/**
 * True when an OpenSSH "ssh-ed25519" public key line holds a 32-byte key:
 * the blob is string("ssh-ed25519") then string(key), 4 + 11 + 4 + 32 bytes.
 */
export function isWellFormedEd25519(publicKey: string): boolean {
  const [type, base64] = publicKey.trim().split(/\s+/);
  if (type !== "ssh-ed25519" || !base64) return false;
  const blob = Buffer.from(base64, "base64");
  return blob.length === 51 && blob.readUInt32BE(0) === 11 && blob.readUInt32BE(15) === 32;
}

/**
 * An ed25519 key pair in OpenSSH format. ssh2 drops a leading zero byte of
 * the public key (about one key in 256), which EC2 rightly refuses as
 * malformed ("InvalidKeyPair.Format"); such a pair is thrown away and
 * another made.
 */
export function generateEd25519(comment: string, generate = () => sshUtils.generateKeyPairSync("ed25519", { comment })) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = generate();
    if (isWellFormedEd25519(pair.public)) return pair;
  }
  throw new PilotError("Could not generate a well-formed ed25519 SSH key.", { hint: "Run the command again." });
}
