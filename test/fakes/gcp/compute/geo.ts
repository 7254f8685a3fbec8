/**
 * Regions and zones. compute refuses a zone or region that does not exist,
 * so a typo in Pilot's settings fails here as it would on Google; regions.get
 * and zones.get/list answer for the real public regions (zones a–d and f of
 * each, a simplification of Google's uneven per-region zone letters).
 */
import { invalid, notFound } from "../errors.js";
import { projectOf } from "./common.js";
import type { Call, HandlerTable, Obj } from "../types.js";
import { selfLink } from "./store.js";

export const REGIONS = [
  "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
  "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1", "europe-north2",
  "europe-southwest1", "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6", "europe-west8", "europe-west9",
  "europe-west10", "europe-west12", "me-central1", "me-central2", "me-west1", "northamerica-northeast1", "northamerica-northeast2",
  "northamerica-south1", "southamerica-east1", "southamerica-west1", "us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
  "us-west1", "us-west2", "us-west3", "us-west4",
];
const ZONE_LETTERS = ["a", "b", "c", "d", "f"];

export function isRegion(r: string): boolean {
  return REGIONS.includes(r);
}

export function isZone(z: string): boolean {
  const m = /^(.*)-([a-z])$/.exec(z);
  return Boolean(m && isRegion(m[1]) && ZONE_LETTERS.includes(m[2]));
}

/** 400 for a region/zone path parameter that names no real place. */
export function checkLocationParams(params: Record<string, string>): void {
  const { region, zone } = params;
  if (region !== undefined && !isRegion(region)) throw invalid(`Invalid value for field 'region': '${region}'. Unknown region.`, "region");
  if (zone !== undefined && !isZone(zone)) throw invalid(`Invalid value for field 'zone': '${zone}'. Unknown zone.`, "zone");
}

function regionJson(project: string, name: string): Obj {
  return {
    kind: "compute#region",
    id: String(1000 + REGIONS.indexOf(name)),
    creationTimestamp: "1969-12-31T16:00:00.000-08:00",
    name,
    description: name,
    status: "UP",
    zones: ZONE_LETTERS.map((l) => selfLink(`projects/${project}/zones/${name}-${l}`)),
    selfLink: selfLink(`projects/${project}/regions/${name}`),
  };
}

function zoneJson(project: string, name: string): Obj {
  const region = name.replace(/-[a-z]$/, "");
  return {
    kind: "compute#zone",
    id: String(2000 + REGIONS.indexOf(region) * 10 + ZONE_LETTERS.indexOf(name.slice(-1))),
    creationTimestamp: "1969-12-31T16:00:00.000-08:00",
    name,
    description: name,
    status: "UP",
    region: selfLink(`projects/${project}/regions/${region}`),
    selfLink: selfLink(`projects/${project}/zones/${name}`),
  };
}

export const geoHandlers: HandlerTable = {
  "compute.regions.get": (call) => {
    if (!isRegion(call.params.region)) throw notFound(`The resource 'projects/${call.params.project}/regions/${call.params.region}' was not found`);
    return regionJson(projectOf(call), call.params.region);
  },
  "compute.regions.list": (call) => {
    const p = projectOf(call);
    return { kind: "compute#regionList", id: `projects/${p}/regions`, items: REGIONS.map((r) => regionJson(p, r)), selfLink: selfLink(`projects/${p}/regions`) };
  },
  "compute.zones.get": (call) => {
    if (!isZone(call.params.zone)) throw notFound(`The resource 'projects/${call.params.project}/zones/${call.params.zone}' was not found`);
    return zoneJson(projectOf(call), call.params.zone);
  },
  "compute.zones.list": (call) => {
    const p = projectOf(call);
    const items = REGIONS.flatMap((r) => ZONE_LETTERS.map((l) => zoneJson(p, `${r}-${l}`)));
    return { kind: "compute#zoneList", id: `projects/${p}/zones`, items, selfLink: selfLink(`projects/${p}/zones`) };
  },
};
