import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HostKeyMismatchError, fingerprintOf, forgetHostKey, keyTypeOf, knownHostsLine, knownHostsPath, sshCommandArgs, writeKnownHosts,
} from "../../../src/bootstrap/ssh/host-key.js";

// An ed25519 public key (from `ssh-keygen -t ed25519`), its blob and OpenSSH's own fingerprint of it.
const PUB = "AAAAC3NzaC1lZDI1NTE5AAAAIGsc0vb0cS4Ac5dV3bkObsyN5tjCk7FkyWCSzbyZeKMY";

describe("host key pinning helpers", () => {
  it("computes OpenSSH's SHA256 fingerprint and the key type from the blob", () => {
    const blob = Buffer.from(PUB, "base64");
    expect(keyTypeOf(blob)).toBe("ssh-ed25519");
    const dir = mkdtempSync(join(tmpdir(), "pilot-hk-"));
    try {
      const file = join(dir, "k.pub");
      writeFileSync(file, `ssh-ed25519 ${PUB} test\n`);
      const expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", file], { encoding: "utf8" }).split(" ")[1];
      expect(fingerprintOf(blob)).toBe(expected);
      expect(fingerprintOf(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes known_hosts lines as OpenSSH expects them (0600)", () => {
    const blob = Buffer.from(PUB, "base64");
    expect(knownHostsLine("203.0.113.7", 22, blob)).toBe(`203.0.113.7 ssh-ed25519 ${PUB}`);
    expect(knownHostsLine("127.0.0.1", 2222, blob)).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${PUB}`);
    const dir = mkdtempSync(join(tmpdir(), "pilot-hk-"));
    try {
      writeKnownHosts(knownHostsPath(dir), "x ssh-ed25519 AAAA");
      expect(readFileSync(join(dir, "known_hosts"), "utf8")).toBe("x ssh-ed25519 AAAA\n");
      expect(statSync(join(dir, "known_hosts")).mode & 0o777).toBe(0o600);
      const server = { hostKeyFingerprint: "SHA256:abc", bootstrappedAt: "t" };
      forgetHostKey(dir, server);
      expect(server).toEqual({ bootstrappedAt: "t" });
      expect(existsSync(join(dir, "known_hosts"))).toBe(false);
      forgetHostKey(dir); // idempotent
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("builds the ssh argv for `pilot server --ssh` with strict checking against the stack's known_hosts", () => {
    expect(
      sshCommandArgs({ host: "203.0.113.7", port: 22, user: "ubuntu", privateKeyPath: "/h/.pilot/stacks/default/id_ed25519", publicAddress: "203.0.113.7" }, "/h/.pilot/stacks/default"),
    ).toEqual([
      "ssh", "-i", "/h/.pilot/stacks/default/id_ed25519", "-p", "22",
      "-o", "IdentitiesOnly=yes",
      "-o", "UserKnownHostsFile=/h/.pilot/stacks/default/known_hosts",
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "StrictHostKeyChecking=yes",
      "-o", "UpdateHostKeys=no",
      "ubuntu@203.0.113.7",
    ]);
  });

  it("a mismatch names both fingerprints and the flag to accept a rebuild", () => {
    const e = new HostKeyMismatchError("203.0.113.7", 22, "SHA256:old", "SHA256:new");
    expect(e.message).toContain("SHA256:old");
    expect(e.message).toContain("SHA256:new");
    expect(e.hint).toContain("pilot up-server --accept-new-host-key");
  });
});
