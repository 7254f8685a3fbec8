// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect
// metadata polyfill loaded before x509 itself is evaluated.
import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { writeFileAtomic } from "../atomic-write.js";
import { PilotError } from "../errors.js";
import { SIGNING, exportKeyPem, generateKeyPair, importKeyPem } from "./pem.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY = 24 * 60 * 60 * 1000;
/** The CA lives as long as the stack is likely to (10 years); it never leaves `$stackDir/tls`. */
export const CA_VALIDITY_DAYS = 3650;
/** Server certificates: 2 years, renewed on any run within the last 30 days. */
export const SERVER_VALIDITY_DAYS = 730;
export const RENEW_BEFORE_DAYS = 30;

/** Paths of a stack's TLS material under `$stackDir/tls` (folder 0700, keys 0600). */
export function tlsPaths(dir: string) {
  return {
    dir,
    caCert: join(dir, "ca.pem"),
    caKey: join(dir, "ca-key.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server-key.pem"),
  };
}

/** The stack's TLS material, as PEM text, and whether this call issued anything new. */
export interface StackTls {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Path of the CA certificate clients should trust. */
  caPath: string;
  createdCa: boolean;
  issuedCert: boolean;
}


function serial(): string {
  // Positive 128-bit serial (top bit clear, RFC 5280 §4.1.2.2).
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

/** SANs in a canonical form so "same names in another order" is the same certificate. */
export function normalizeSans(names: string[]): string[] {
  return [...new Set(names.map((n) => n.trim().toLowerCase()).filter(Boolean))].sort();
}

function sanEntries(names: string[]): x509.JsonGeneralName[] {
  return names.map((n) => ({ type: isIP(n) ? "ip" : "dns", value: n }) as x509.JsonGeneralName);
}

/** The SANs a certificate holds, normalized. */
export function certificateSans(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return normalizeSans(ext.names.items.map((n) => n.value));
}

async function createCa(now: Date): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=Pilot stack CA, O=Pilot",
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

async function issueServerCert(
  ca: x509.X509Certificate,
  caKey: CryptoKey,
  sans: string[],
  now: Date,
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${sans[0] ?? "waypoint-server"}`,
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sanEntries(sans)),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

/** Is `pem` a certificate signed by `ca`, valid beyond the renewal window, for exactly `sans`? */
async function isReusable(pem: string, ca: x509.X509Certificate, sans: string[], now: Date): Promise<boolean> {
  try {
    const cert = new x509.X509Certificate(pem);
    if (cert.notBefore.getTime() > now.getTime()) return false;
    if (cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY) return false;
    if (JSON.stringify(certificateSans(cert)) !== JSON.stringify(sans)) return false;
    return await cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * Makes sure the stack has a CA and a server certificate for `names`
 * (IPs and DNS names; the first is the subject). The CA is created once and
 * kept; the server certificate is reused while it is valid for the same
 * names and signed by this CA, and re-issued (same CA, so clients keep
 * trusting it) when the names change or it nears expiry.
 */
export async function ensureStackTls(dir: string, names: string[], now = new Date()): Promise<StackTls> {
  const sans = normalizeSans(names);
  if (sans.length === 0) throw new PilotError("TLS: the server certificate needs at least one address");
  const p = tlsPaths(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);

  let createdCa = false;
  if (!existsSync(p.caCert) || !existsSync(p.caKey)) {
    const ca = await createCa(now);
    writeFileAtomic(p.caKey, ca.keyPem, 0o600);
    writeFileAtomic(p.caCert, ca.certPem, 0o644);
    createdCa = true;
  }
  const caPem = readFileSync(p.caCert, "utf8");
  const ca = new x509.X509Certificate(caPem);
  if (ca.notAfter.getTime() < now.getTime()) {
    throw new PilotError(`TLS: the stack's CA in ${p.caCert} expired on ${ca.notAfter.toISOString()}`, {
      hint: `Move ${dir} aside and run \`pilot up-server\` again to make a new CA (clients must then trust the new ca.pem).`,
    });
  }

  // Keep the first name first (it becomes the subject), then compare as sets.
  const ordered = [names[0]!.trim().toLowerCase(), ...sans.filter((s) => s !== names[0]!.trim().toLowerCase())];
  let issuedCert = false;
  if (createdCa || !existsSync(p.serverCert) || !existsSync(p.serverKey) || !(await isReusable(readFileSync(p.serverCert, "utf8"), ca, sans, now))) {
    const caKey = await importKeyPem(readFileSync(p.caKey, "utf8"));
    const cert = await issueServerCert(ca, caKey, ordered, now);
    writeFileAtomic(p.serverKey, cert.keyPem, 0o600);
    writeFileAtomic(p.serverCert, cert.certPem, 0o644);
    issuedCert = true;
  }
  return {
    caPem,
    certPem: readFileSync(p.serverCert, "utf8"),
    keyPem: readFileSync(p.serverKey, "utf8"),
    caPath: p.caCert,
    createdCa,
    issuedCert,
  };
}
