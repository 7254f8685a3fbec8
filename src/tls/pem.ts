// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect
// metadata polyfill loaded before x509 itself is evaluated.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { PemConverter } from "@peculiar/x509";

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;

/** A private key as PKCS#8 PEM ("PRIVATE KEY"), the form Go's tls.LoadX509KeyPair and Node both read. */
export async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return PemConverter.encode(der, "PRIVATE KEY");
}

/** Reads a PKCS#8 P-256 private key back for signing. */
export async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = PemConverter.decode(pem)[0];
  if (!der) throw new Error("no PEM block in key file");
  return webcrypto.subtle.importKey("pkcs8", der, EC, true, ["sign"]);
}

/** A fresh ECDSA P-256 key pair (extractable: the private half is written to disk). */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

export const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
