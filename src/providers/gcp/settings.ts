/**
 * The GCP provider's settings: flag parsing and validation (pure, no
 * network) first, then the defaults that need a look-up (the project from
 * Application Default Credentials, the operator's public address).
 */
import { UsageError } from "../../errors.js";
import { checkAllowCidrs, operatorCidr } from "../access.js";
import type { ProviderFlags } from "../types.js";

/** What a GCP stack is made from; stored in state.settings so later runs default to it. */
export interface GcpSettings extends Record<string, unknown> {
  project: string;
  region: string;
  zone: string;
  /** Who may reach SSH (22) and Waypoint (9701/9702): normalised IPv4 CIDRs, sorted. */
  allowCidrs: string[];
  allowWorld: boolean;
  machineType: string;
  /** Cloud SQL tier. */
  dbTier: string;
  /** This run only (--enable-apis): enable the APIs Pilot needs instead of stopping. Never stored. */
  enableApis?: boolean;
  /** Teardown only (--skip-final-snapshot): no final backup of the database. Never stored. */
  skipFinalSnapshot?: boolean;
}

export const DEFAULT_MACHINE_TYPE = "e2-small";
/** Shared-core, the Enterprise edition's smallest that is not "micro": enough for a small team's apps. */
export const DEFAULT_DB_TIER = "db-g1-small";

/** Look-ups resolveGcpSettings needs beyond the flags; injected so tests stay offline. */
export interface GcpSettingsLookups {
  /** The project Application Default Credentials belong to, if any. */
  adcProject(): Promise<string | undefined>;
  /** The operator's public IPv4 address, or undefined when it cannot be found out. */
  detectPublicIp(): Promise<string | undefined>;
}

function stringFlag(flags: ProviderFlags, name: string, flag: string): string | undefined {
  const v = flags[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new UsageError(`--${flag} takes one value.`);
  return v.trim();
}

function check(value: string, pattern: RegExp, flag: string, example: string): string {
  if (!pattern.test(value)) throw new UsageError(`--${flag} "${value}" is not valid.`, `Use a value like ${example}.`);
  return value;
}

/** Google's project id rule: 6-30 lowercase letters, digits and hyphens, a letter first, no hyphen last. */
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;

/** A stored setting may not silently move: every recorded resource lives where it was made. */
function refuseMove(what: string, flag: string, stored: unknown, given: string | undefined): void {
  if (given && typeof stored === "string" && stored !== given) {
    throw new UsageError(
      `This stack lives in ${what} ${stored}; it cannot move to ${given}.`,
      `Use another --name for a stack in ${given}, or run \`pilot teardown\` first (--${flag}).`,
    );
  }
}

/**
 * Flags over stored settings over the environment. Every check that needs no
 * network runs first, so a typo fails at once; the project look-up (ADC) and
 * the public-address look-up run last, and only when nothing else says.
 */
export async function resolveGcpSettings(
  flags: ProviderFlags,
  stored: Partial<GcpSettings> | undefined,
  env: NodeJS.ProcessEnv,
  lookups: GcpSettingsLookups,
): Promise<GcpSettings> {
  const prev = stored ?? {};

  const projectFlag = stringFlag(flags, "project", "project");
  if (projectFlag) check(projectFlag, PROJECT, "project", "my-project-123");
  refuseMove("project", "project", prev.project, projectFlag);
  const regionFlag = stringFlag(flags, "region", "region");
  if (regionFlag) check(regionFlag, REGION, "region", "europe-west1");
  refuseMove("region", "region", prev.region, regionFlag);
  const zoneFlag = stringFlag(flags, "zone", "zone");
  if (zoneFlag) check(zoneFlag, /^[a-z]+-[a-z]+\d+-[a-z]$/, "zone", "europe-west1-b");
  refuseMove("zone", "zone", prev.zone, zoneFlag);

  const machineType = check(stringFlag(flags, "instanceType", "instance-type") ?? prev.machineType ?? DEFAULT_MACHINE_TYPE, /^[a-z][a-z0-9]*-[a-z0-9-]+$/, "instance-type", DEFAULT_MACHINE_TYPE);
  const dbTier = check(stringFlag(flags, "dbInstanceClass", "db-instance-class") ?? prev.dbTier ?? DEFAULT_DB_TIER, /^db-[a-z0-9-]+$/, "db-instance-class", DEFAULT_DB_TIER);
  const allowWorld = typeof flags.allowWorld === "boolean" ? flags.allowWorld : prev.allowWorld === true;
  const givenCidrs = checkAllowCidrs(flags.allowCidr, prev.allowCidrs, allowWorld);

  const region = regionFlag ?? prev.region ?? env.CLOUDSDK_COMPUTE_REGION;
  if (!region) throw new UsageError("No GCP region is configured.", "Pass --region (e.g. --region europe-west1), or set CLOUDSDK_COMPUTE_REGION.");
  check(region, REGION, "region", "europe-west1");
  const envZone = env.CLOUDSDK_COMPUTE_ZONE?.startsWith(`${region}-`) ? env.CLOUDSDK_COMPUTE_ZONE : undefined;
  // Every region has a zone "b" (not every one has an "a").
  const zone = zoneFlag ?? prev.zone ?? envZone ?? `${region}-b`;
  if (!zone.startsWith(`${region}-`)) throw new UsageError(`--zone ${zone} is not in region ${region}.`, `Use a zone of ${region}, e.g. ${region}-b.`);

  const project = projectFlag ?? prev.project ?? env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT ?? (await lookups.adcProject());
  if (!project) {
    throw new UsageError("No GCP project is configured.", "Pass --project, or set GOOGLE_CLOUD_PROJECT (or `gcloud config set project`).");
  }
  check(project, PROJECT, "project", "my-project-123");

  const allowCidrs = givenCidrs.length > 0 ? givenCidrs : await operatorCidr(lookups.detectPublicIp);
  const settings: GcpSettings = { project, region, zone, allowCidrs, allowWorld, machineType, dbTier };
  if (flags.enableApis === true && flags.dryRun !== true) settings.enableApis = true;
  if (flags.skipFinalSnapshot === true) settings.skipFinalSnapshot = true;
  return settings;
}
