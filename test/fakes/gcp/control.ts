/**
 * What a test can do to the fake besides calling Google's APIs: reset it,
 * inject faults, disable APIs, play the guest agent (host keys), publish a
 * newer image, make Service Networking keep refusing a delete, change
 * latencies, and read the request log and the inventory. admin-http.ts
 * exposes the same under /__fake/ for a fake started in another process.
 */
import type { GuestEntry } from "./compute/guest-attributes.js";
import { DEFAULT_IMAGE_FAMILY, DEFAULT_IMAGE_PROJECT } from "./compute/images.js";
import type { ApiName } from "./discovery.js";
import type { Fault, FaultSpec, Faults } from "./faults.js";
import { inventory } from "./inventory.js";
import { latencySettings, type LatencySettings } from "./latency.js";
import type { LoggedRequest, RequestLog } from "./request-log.js";
import type { InventoryItem, Obj } from "./types.js";
import { clone } from "./types.js";
import type { World } from "./world.js";

export interface LatencyUpdate {
  /** Operation delay without a more specific entry. */
  defaultMs?: number;
  /** Merged into the overrides (by method id, `api.collection`, or API). */
  overrides?: Record<string, number>;
  /** Delay added to every API request. */
  requestMs?: number;
  /** Replaces the overrides with the real-latency profile × this scale. */
  realLatencyScale?: number;
}

export interface InventoryFilter {
  api?: ApiName;
  collection?: string;
  /** Only resources carrying all these labels. */
  labels?: Record<string, string>;
}

export interface FakeGcpControl {
  /** Forgets every resource, operation, fault and request; latency back to the start-up settings. */
  reset(): void;
  faults: {
    add(spec: FaultSpec): number;
    remove(id: number): void;
    clear(): void;
    list(): Fault[];
  };
  /** Shorthand: the next `times` calls of `method` fail with `error`. */
  failNext(method: string, error: NonNullable<FaultSpec["error"]>, times?: number): number;
  /** Every request to this API ("sqladmin.googleapis.com") now gets 403 SERVICE_DISABLED. */
  disableApi(service: string): void;
  enableApi(service: string): void;
  /**
   * The SSH host keys the "guest agent" publishes under `hostkeys/`, for one
   * instance name or (no name) for every instance; `{ "ssh-ed25519": "AAAA..." }`
   * or `[{key, value}]`. An empty set clears.
   */
  setGuestHostKeys(keys: Record<string, string> | GuestEntry[], instance?: string): void;
  /** Publishes `name` as the newest image of a family (default ubuntu-os-cloud/ubuntu-2404-lts-amd64). */
  setNewestImage(name: string, opts?: { project?: string; family?: string }): Obj;
  /**
   * Service Networking refuses `n` more deleteConnection attempts after the
   * last Cloud SQL instance on the network is gone. `mode` "immediate" answers
   * refusals with a 400 on the call instead of a failed operation.
   */
  refuseConnectionDelete(n: number, mode?: "operation" | "immediate"): void;
  setLatency(update: LatencyUpdate): LatencySettings;
  latency(): LatencySettings;
  requests(filter?: { methodId?: string; api?: ApiName; since?: number }): LoggedRequest[];
  clearRequests(): void;
  inventory(filter?: InventoryFilter): InventoryItem[];
  /** Runs every due event now (operations finishing), as any request would. */
  settle(): void;
  readonly project: string;
  projectNumber(projectId?: string): string;
  /** The live state, for assertions the control API does not cover. */
  readonly world: World;
}

export function createControl(world: World, faults: Faults, log: RequestLog): FakeGcpControl {
  return {
    reset() {
      world.reset();
      faults.clear();
      log.clear();
    },
    faults: {
      add: (spec) => faults.add(spec),
      remove: (id) => faults.remove(id),
      clear: () => faults.clear(),
      list: () => faults.active(),
    },
    failNext: (method, error, times = 1) => faults.add({ method, error, times }),
    disableApi: (service) => world.usage.disable(service),
    enableApi: (service) => world.usage.enable(service),
    setGuestHostKeys(keys, instance) {
      const list = Array.isArray(keys) ? keys : Object.entries(keys).map(([key, value]) => ({ key, value }));
      world.guestKeys.set(list, instance);
    },
    setNewestImage: (name, opts) => clone(world.images.add(opts?.project ?? DEFAULT_IMAGE_PROJECT, opts?.family ?? DEFAULT_IMAGE_FAMILY, name, world.now())),
    refuseConnectionDelete(n, mode) {
      world.networking.lingeringRefusals = n;
      if (mode) world.networking.refusalMode = mode;
    },
    setLatency(update) {
      const l = world.latency;
      if (update.realLatencyScale !== undefined) l.overrides = latencySettings({ realLatencyScale: update.realLatencyScale }).overrides;
      if (update.overrides) Object.assign(l.overrides, update.overrides);
      if (update.defaultMs !== undefined) l.defaultMs = update.defaultMs;
      if (update.requestMs !== undefined) l.requestMs = update.requestMs;
      return clone(l);
    },
    latency: () => clone(world.latency),
    requests: (filter) => log.list(filter),
    clearRequests: () => log.clear(),
    inventory(filter) {
      return inventory(world).filter(
        (i) =>
          (!filter?.api || i.api === filter.api) &&
          (!filter?.collection || i.collection === filter.collection) &&
          Object.entries(filter?.labels ?? {}).every(([k, v]) => i.labels[k] === v),
      );
    },
    settle: () => world.timeline.settle(),
    get project() {
      return world.defaultProject;
    },
    projectNumber: (projectId) => world.projects.numberOf(projectId ?? world.defaultProject),
    world,
  };
}
