import "reflect-metadata";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureStackTls, tlsPaths } from "../../../src/tls/index.js";

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), "pilot-tls-")), "tls");
});
afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

const DAY = 86_400_000;
const mode = (p: string) => statSync(p).mode & 0o777;

describe("ensureStackTls", () => {
  it("makes a P-256 CA and a server certificate for the given names, keys 0600", async () => {
    const t = await ensureStackTls(dir, ["203.0.113.10", "waypoint-server", "localhost", "127.0.0.1"]);
    expect(t.createdCa && t.issuedCert).toBe(true);
    const p = tlsPaths(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(p.caKey)).toBe(0o600);
    expect(mode(p.serverKey)).toBe(0o600);

    const ca = new X509Certificate(t.caPem);
    const cert = new X509Certificate(t.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(createPrivateKey(readFileSync(p.serverKey)).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    // The public address first (it is also the subject), the rest sorted.
    expect(cert.subjectAltName).toBe("IP Address:203.0.113.10, IP Address:127.0.0.1, DNS:localhost, DNS:waypoint-server");
    expect(cert.subject).toBe("CN=203.0.113.10");
    expect(cert.checkIP("203.0.113.10")).toBe("203.0.113.10");
    expect(cert.checkHost("waypoint-server")).toBe("waypoint-server");
    const validDays = (Date.parse(cert.validTo) - Date.now()) / DAY;
    expect(validDays).toBeGreaterThan(700);
    expect(validDays).toBeLessThan(731);
    expect((Date.parse(ca.validTo) - Date.now()) / DAY).toBeGreaterThan(3600);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // serverAuth
  });

  it("reuses both while valid for the same names (in any order)", async () => {
    const a = await ensureStackTls(dir, ["203.0.113.10", "localhost"]);
    const b = await ensureStackTls(dir, ["LOCALHOST", "203.0.113.10"]);
    expect(b.createdCa || b.issuedCert).toBe(false);
    expect(b.certPem).toBe(a.certPem);
    expect(b.keyPem).toBe(a.keyPem);
  });

  it("re-issues the server certificate, with the same CA, when the address changes", async () => {
    const a = await ensureStackTls(dir, ["203.0.113.10", "localhost"]);
    const b = await ensureStackTls(dir, ["198.51.100.4", "localhost"]);
    expect(b.createdCa).toBe(false);
    expect(b.issuedCert).toBe(true);
    expect(b.caPem).toBe(a.caPem);
    expect(b.keyPem).not.toBe(a.keyPem);
    const cert = new X509Certificate(b.certPem);
    expect(cert.checkIP("198.51.100.4")).toBe("198.51.100.4");
    expect(cert.checkIP("203.0.113.10")).toBeUndefined();
    expect(cert.verify(new X509Certificate(a.caPem).publicKey)).toBe(true);
  });

  it("renews a server certificate close to expiry", async () => {
    await ensureStackTls(dir, ["203.0.113.10"]);
    const later = new Date(Date.now() + 710 * DAY);
    const b = await ensureStackTls(dir, ["203.0.113.10"], later);
    expect(b.issuedCert).toBe(true);
    expect(Date.parse(new X509Certificate(b.certPem).validTo)).toBeGreaterThan(later.getTime() + 700 * DAY);
  });

  it("refuses to work without a name", async () => {
    await expect(ensureStackTls(dir, [])).rejects.toThrow(/at least one address/);
  });
});
