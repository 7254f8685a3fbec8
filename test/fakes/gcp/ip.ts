/**
 * IPv4 and CIDR arithmetic: subnet ranges, overlap checks, and handing out
 * the next free address in a range (compute's networkIP, Cloud SQL's private
 * address, ephemeral external IPs).
 */

export interface Cidr {
  base: number;
  prefix: number;
  text: string;
}

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses `a.b.c.d/n`; undefined when malformed or when host bits are set (compute refuses those). */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if (((ip & mask) >>> 0) !== ip) return undefined;
  return { base: ip, prefix, text: s };
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + size(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/**
 * The first free host in a range, skipping what compute reserves in a subnet
 * (network, gateway .1, second-to-last and broadcast).
 */
export function nextFreeHost(c: Cidr, used: Set<string>): string | undefined {
  const n = size(c);
  for (let i = 2; i < n - 2; i++) {
    const ip = formatIp(c.base + i);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

/** The first block of this prefix length inside `within` that overlaps none of `taken`. */
export function freeBlock(within: Cidr, prefix: number, taken: Cidr[]): Cidr | undefined {
  const step = 2 ** (32 - prefix);
  for (let base = within.base; base + step <= within.base + size(within); base += step) {
    const cand: Cidr = { base, prefix, text: `${formatIp(base)}/${prefix}` };
    if (!taken.some((t) => overlaps(t, cand))) return cand;
  }
  return undefined;
}
