/**
 * The AWS provider's settings: flag parsing and validation (pure, no network),
 * then the defaults that need a look-up (region from the config chain, the
 * operator's public address).
 */
import { UsageError } from "../../errors.js";
import type { ProviderFlags } from "../types.js";

/** What an AWS stack is made from; stored in state.settings so later runs default to it. */
export interface AwsSettings extends Record<string, unknown> {
  region: string;
  /** Who may reach SSH (22) and Waypoint (9701/9702): normalised IPv4 CIDRs, sorted. */
  allowCidrs: string[];
  /** Set to permit 0.0.0.0/0 (--allow-world). */
  allowWorld: boolean;
  instanceType: string;
  dbInstanceClass: string;
  /** An AMI to use instead of the newest Ubuntu 24.04 LTS (--ami). */
  ami?: string;
  /** Teardown only (--skip-final-snapshot); never taken over from stored settings. */
  skipFinalSnapshot?: boolean;
}

export const DEFAULT_INSTANCE_TYPE = "t3.small";
export const DEFAULT_DB_INSTANCE_CLASS = "db.t4g.micro";
const WORLD = "0.0.0.0/0";

/** Look-ups resolveAwsSettings needs beyond the flags; injected so tests stay offline. */
export interface SettingsLookups {
  defaultRegion(): Promise<string | undefined>;
  /** The operator's public IPv4 address, or undefined when it cannot be found out. */
  detectPublicIp(): Promise<string | undefined>;
}

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

function stringFlag(flags: ProviderFlags, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new UsageError(`--${kebab(name)} takes one value.`);
  return v.trim();
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function check(value: string, pattern: RegExp, flag: string, example: string): string {
  if (!pattern.test(value)) throw new UsageError(`--${flag} "${value}" is not valid.`, `Use a value like ${example}.`);
  return value;
}

/**
 * Flags over stored settings over defaults. Every check that needs no network
 * runs first, so a typo fails at once; the region default reads local config
 * only; the public-address look-up runs last and only when no CIDR is known.
 */
export async function resolveAwsSettings(
  flags: ProviderFlags,
  stored: Partial<AwsSettings> | undefined,
  lookups: SettingsLookups,
): Promise<AwsSettings> {
  const prev = stored ?? {};
  const regionFlag = stringFlag(flags, "region");
  if (regionFlag) check(regionFlag, /^[a-z]{2}(-[a-z]+)+-\d+$/, "region", "us-east-1");
  if (regionFlag && typeof prev.region === "string" && prev.region !== regionFlag) {
    // Every recorded id belongs to the old region: switching would orphan them all.
    throw new UsageError(
      `This stack lives in ${prev.region}; it cannot move to ${regionFlag}.`,
      `Use another --name for a stack in ${regionFlag}, or run \`pilot teardown\` first.`,
    );
  }
  const instanceType = check(stringFlag(flags, "instanceType") ?? prev.instanceType ?? DEFAULT_INSTANCE_TYPE, /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "instance-type", "t3.small");
  const dbInstanceClass = check(
    stringFlag(flags, "dbInstanceClass") ?? prev.dbInstanceClass ?? DEFAULT_DB_INSTANCE_CLASS,
    /^db\.[a-z0-9-]+\.[a-z0-9]+$/,
    "db-instance-class",
    "db.t4g.micro",
  );
  const amiValue = stringFlag(flags, "ami") ?? prev.ami;
  const ami = amiValue === undefined ? undefined : check(amiValue, /^ami-[0-9a-f]{8,17}$/, "ami", "ami-0abcdef1234567890");

  const allowWorld = typeof flags.allowWorld === "boolean" ? flags.allowWorld : prev.allowWorld === true;
  const rawCidrs = flags.allowCidr === undefined ? [] : Array.isArray(flags.allowCidr) ? flags.allowCidr : [flags.allowCidr as unknown as string];
  let allowCidrs = [...new Set(rawCidrs.map(normaliseCidr))].sort();
  if (allowCidrs.length === 0 && Array.isArray(prev.allowCidrs)) allowCidrs = [...new Set(prev.allowCidrs.map(normaliseCidr))].sort();
  // Any /0 normalises to 0.0.0.0/0.
  if (allowCidrs.includes(WORLD) && !allowWorld) {
    throw new UsageError(
      `--allow-cidr ${WORLD} would open SSH and Waypoint to the whole internet.`,
      "Narrow the range (your own address is the default), or add --allow-world if you really mean it.",
    );
  }
  const skipFinalSnapshot = flags.skipFinalSnapshot === true ? true : undefined;

  const region = regionFlag ?? (typeof prev.region === "string" ? prev.region : undefined) ?? (await lookups.defaultRegion());
  if (!region) {
    throw new UsageError("No AWS region is configured.", "Pass --region (e.g. --region us-east-1), or set AWS_REGION or a region in your AWS profile.");
  }

  if (allowCidrs.length === 0) {
    const ip = await lookups.detectPublicIp();
    if (!ip || !parseIpv4(ip)) {
      throw new UsageError(
        "Could not detect your public IP address to restrict SSH and Waypoint access.",
        "Pass --allow-cidr with your address or network, e.g. --allow-cidr 203.0.113.4/32.",
      );
    }
    allowCidrs = [`${ip}/32`];
  }

  const settings: AwsSettings = { region, allowCidrs, allowWorld, instanceType, dbInstanceClass };
  if (ami) settings.ami = ami;
  if (skipFinalSnapshot) settings.skipFinalSnapshot = true;
  return settings;
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
