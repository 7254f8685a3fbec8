/**
 * The AWS provider's settings: flag parsing and validation (pure, no network),
 * then the defaults that need a look-up (region from the config chain, the
 * operator's public address).
 */
import { UsageError } from "../../errors.js";
import { checkAllowCidrs, operatorCidr } from "../access.js";
import type { ProviderFlags } from "../types.js";

export { detectPublicIp, normaliseCidr } from "../access.js";

/** What an AWS stack is made from; stored in state.settings so later runs default to it. */
export interface AwsSettings extends Record<string, unknown> {
  region: string;
  /** Who may reach SSH (22) and Waypoint (9701/9702): normalised IPv4 CIDRs, sorted. */
  allowCidrs: string[];
  /** Set to permit 0.0.0.0/0 (--allow-world). */
  allowWorld: boolean;
  /**
   * Who may reach the ECS apps' load balancers: anyone when set (--public-apps),
   * else the allowCidrs ranges. Unset in state written before the flag existed.
   */
  publicApps?: boolean;
  instanceType: string;
  dbInstanceClass: string;
  /** An AMI to use instead of the newest Ubuntu 24.04 LTS (--ami). */
  ami?: string;
  /** Teardown only (--skip-final-snapshot); never taken over from stored settings. */
  skipFinalSnapshot?: boolean;
}

export const DEFAULT_INSTANCE_TYPE = "t3.small";
export const DEFAULT_DB_INSTANCE_CLASS = "db.t4g.micro";

/** Look-ups resolveAwsSettings needs beyond the flags; injected so tests stay offline. */
export interface SettingsLookups {
  defaultRegion(): Promise<string | undefined>;
  /** The operator's public IPv4 address, or undefined when it cannot be found out. */
  detectPublicIp(): Promise<string | undefined>;
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
  // Checked before any look-up, so a typo or an open-to-the-world range fails at once.
  const givenCidrs = checkAllowCidrs(flags.allowCidr, prev.allowCidrs, allowWorld);
  const skipFinalSnapshot = flags.skipFinalSnapshot === true ? true : undefined;
  // Kept for later runs like --allow-world: --no-public-apps closes them again.
  const publicApps = typeof flags.publicApps === "boolean" ? flags.publicApps : prev.publicApps === true;

  const region = regionFlag ?? (typeof prev.region === "string" ? prev.region : undefined) ?? (await lookups.defaultRegion());
  if (!region) {
    throw new UsageError("No AWS region is configured.", "Pass --region (e.g. --region us-east-1), or set AWS_REGION or a region in your AWS profile.");
  }

  const allowCidrs = givenCidrs.length > 0 ? givenCidrs : await operatorCidr(lookups.detectPublicIp);

  const settings: AwsSettings = { region, allowCidrs, allowWorld, instanceType, dbInstanceClass };
  if (ami) settings.ami = ami;
  if (publicApps) settings.publicApps = true;
  if (skipFinalSnapshot) settings.skipFinalSnapshot = true;
  return settings;
}
