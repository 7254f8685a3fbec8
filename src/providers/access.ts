/**
 * Who may reach the server: the --allow-cidr ranges, checked and normalised,
 * or else the operator's own public address as a /32. The same posture on
 * every cloud (SSH and Waypoint open to these ranges only, never the world
 * unless --allow-world), so it is written once here.
 */
import { UsageError } from "../errors.js";

export const WORLD = "0.0.0.0/0";

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const p of parts) {
    // Strict: decimal digits only, no leading zeros (which some parsers read as octal).
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    octets.push(n);
  }
  return octets;
}

/**
 * Validates one --allow-cidr value and returns it normalised: a bare address
 * becomes /32 and host bits are cleared ("203.0.113.7/24" → "203.0.113.0/24"),
 * so what we compare with AWS's stored rules is what AWS itself would store.
 */
export function normaliseCidr(value: string): string {
  const text = String(value).trim();
  const [addr, prefixText, extra] = text.split("/");
  const octets = parseIpv4(addr ?? "");
  const prefix = prefixText === undefined ? 32 : /^(0|[1-9]\d?)$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!octets || extra !== undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new UsageError(`--allow-cidr "${value}" is not an IPv4 CIDR.`, "Use the form 203.0.113.4/32 (repeat the flag for several ranges).");
  }
  const ip = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ip / size) * size;
  const out = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
  return `${out}/${prefix}`;
}

/**
 * The --allow-cidr values (repeatable), else the stored ones, normalised,
 * de-duplicated and sorted; 0.0.0.0/0 (any /0) is refused unless
 * `allowWorld`. Empty when neither gives a range (the caller then detects the
 * operator's address). Pure: no network.
 */
export function checkAllowCidrs(flag: unknown, stored: unknown, allowWorld: boolean): string[] {
  const raw = flag === undefined ? [] : Array.isArray(flag) ? flag : [flag as string];
  let cidrs = [...new Set(raw.map((v) => normaliseCidr(String(v))))].sort();
  if (cidrs.length === 0 && Array.isArray(stored)) cidrs = [...new Set(stored.map((v) => normaliseCidr(String(v))))].sort();
  // Any /0 normalises to 0.0.0.0/0.
  if (cidrs.includes(WORLD) && !allowWorld) {
    throw new UsageError(
      `--allow-cidr ${WORLD} would open SSH and Waypoint to the whole internet.`,
      "Narrow the range (your own address is the default), or add --allow-world if you really mean it.",
    );
  }
  return cidrs;
}

/** The operator's public address as a one-element /32 list; a usage error when it cannot be found out. */
export async function operatorCidr(detect: () => Promise<string | undefined>): Promise<string[]> {
  const ip = await detect();
  if (!ip || !parseIpv4(ip)) {
    throw new UsageError(
      "Could not detect your public IP address to restrict SSH and Waypoint access.",
      "Pass --allow-cidr with your address or network, e.g. --allow-cidr 203.0.113.4/32.",
    );
  }
  return [`${ip}/32`];
}

/** Default "what is my IP" endpoint: AWS's own, plain text, one line. */
export const CHECKIP_URL = "https://checkip.amazonaws.com/";

/** Asks CHECKIP_URL for the operator's public IPv4 (3 s timeout); undefined on any failure. */
export async function detectPublicIp(url = CHECKIP_URL, timeoutMs = 3_000): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const text = (await res.text()).trim();
    return parseIpv4(text) ? text : undefined;
  } catch {
    return undefined;
  }
}
