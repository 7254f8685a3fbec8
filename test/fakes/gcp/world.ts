/**
 * Everything the fake knows, in one object the handlers share: the clock and
 * timeline, latency settings, projects, and each API's state. reset() puts
 * it back as it was at start-up (latency settings included).
 */
import { ArtifactRegistryState } from "./artifactregistry.js";
import { ComputeOperations } from "./compute/operations.js";
import { GuestKeys } from "./compute/guest-attributes.js";
import { ImageCatalog } from "./compute/images.js";
import { ComputeState } from "./compute/store.js";
import { CrmState } from "./crm.js";
import { IamState } from "./iam.js";
import type { LatencySettings } from "./latency.js";
import { LroStore } from "./lro.js";
import { Projects } from "./projects.js";
import { RunState } from "./run.js";
import { SecretManagerState } from "./secretmanager.js";
import { NetworkingState } from "./servicenetworking.js";
import { SqlState } from "./sql/state.js";
import { Timeline } from "./timeline.js";
import { UsageState } from "./serviceusage.js";
import { VpcState } from "./vpcaccess.js";

export interface WorldOptions {
  project: string;
  latency: LatencySettings;
  /** Who "makes" the calls (operations' `user`). */
  callerEmail: string;
  /** The user in the project's starting IAM policy as roles/owner. */
  ownerEmail: string;
}

export class World {
  readonly timeline = new Timeline(() => this.now());
  latency!: LatencySettings;
  projects!: Projects;
  compute!: ComputeState;
  computeOps!: ComputeOperations;
  images!: ImageCatalog;
  guestKeys!: GuestKeys;
  sql!: SqlState;
  lro!: LroStore;
  networking!: NetworkingState;
  vpc!: VpcState;
  iam!: IamState;
  crm!: CrmState;
  usage!: UsageState;
  artifacts!: ArtifactRegistryState;
  run!: RunState;
  secrets!: SecretManagerState;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(readonly options: WorldOptions) {
    this.reset();
  }

  get defaultProject(): string {
    return this.options.project;
  }

  get callerEmail(): string {
    return this.options.callerEmail;
  }

  get ownerEmail(): string {
    return this.options.ownerEmail;
  }

  now(): number {
    return Date.now();
  }

  /** Waits `ms` (cut short by close()). */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(entry);
    });
  }

  /** Ends every pending sleep now (used when the server closes). */
  wakeAll(): void {
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }

  reset(): void {
    this.timeline.clear();
    this.latency = { ...this.options.latency, overrides: { ...this.options.latency.overrides } };
    this.projects = new Projects(this.options.project);
    this.compute = new ComputeState();
    this.computeOps = new ComputeOperations();
    this.images = new ImageCatalog(this.now());
    this.guestKeys = new GuestKeys();
    this.sql = new SqlState();
    this.lro = new LroStore();
    this.networking = new NetworkingState();
    this.vpc = new VpcState();
    this.iam = new IamState();
    this.crm = new CrmState();
    this.usage = new UsageState();
    this.artifacts = new ArtifactRegistryState();
    this.run = new RunState();
    this.secrets = new SecretManagerState();
  }
}
