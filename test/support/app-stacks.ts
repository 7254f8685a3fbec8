/**
 * State files of finished stacks, one per provider, with the resources
 * `pilot new app` reads (server, private subnets, apps security group, VPC
 * connector), so its tests need no cloud and no up-server run first.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProviderName, StackState } from "../../src/state/schema.js";
import { STATE_VERSION } from "../../src/state/schema.js";

export const LINEAGE = "0d9e8f7a-1111-4222-8333-444455556666";
/** The GCP stack's account for its Cloud Run apps (src/providers/gcp/service-account.ts appsServiceAccountId). */
export const APPS_ACCOUNT = "pilot-default-0d9e8f7a-run@my-project.iam.gserviceaccount.com";

const created = (type: string, id: string, out: Record<string, unknown>, dependsOn: string[] = []) => ({ type, status: "created" as const, token: `t-${id}`, id, out, dependsOn });

/** A finished stack of the given provider, as up-server leaves it. */
export function stackState(provider: ProviderName, overrides: Partial<StackState> = {}): StackState {
  const base = { version: STATE_VERSION, lineage: LINEAGE, serial: 7, provider, secrets: { dbPassword: "pw/with:odd@chars", waypointToken: "wp-token" }, server: { bootstrappedAt: "2026-01-01T00:00:00.000Z" }, apps: {} };
  if (provider === "aws") {
    return {
      ...base,
      settings: { region: "eu-west-1", allowCidrs: ["203.0.113.7/32"], allowWorld: false, instanceType: "t3.small", dbInstanceClass: "db.t4g.micro" },
      resources: {
        "subnet-public": created("aws.ec2.subnet", "subnet-0aaa", { subnetId: "subnet-0aaa" }),
        "subnet-public-b": created("aws.ec2.subnet", "subnet-0bbb", { subnetId: "subnet-0bbb" }),
        "sg-apps": created("aws.ec2.security-group", "sg-0ccc", { groupId: "sg-0ccc" }),
        "sg-lb": created("aws.ec2.security-group", "sg-0ddd", { groupId: "sg-0ddd" }),
        eip: created("aws.ec2.eip", "eipalloc-1", { publicIp: "203.0.113.10", allocationId: "eipalloc-1" }),
        db: created("aws.rds.instance", "pilot-x", { endpoint: "db.example.internal", port: 5432 }),
      },
      ...overrides,
    };
  }
  if (provider === "gcp") {
    return {
      ...base,
      settings: { project: "my-project", region: "europe-west1", zone: "europe-west1-b", allowCidrs: ["203.0.113.7/32"], allowWorld: false, machineType: "e2-small", dbTier: "db-g1-small" },
      resources: {
        connector: created("gcp.vpcaccess.connector", "projects/my-project/locations/europe-west1/connectors/pilot-default-0d9e8f7a", { name: "pilot-default-0d9e8f7a", network: "n", cidr: "10.42.8.0/28", state: "READY" }),
        "address-server": created("gcp.compute.address", "a", { address: "203.0.113.20", name: "a" }),
        server: created("gcp.compute.instance", "i", { name: "i" }),
        "sa-apps": created("gcp.iam.service-account", APPS_ACCOUNT, { email: APPS_ACCOUNT, uniqueId: "1", disabled: false }),
      },
      ...overrides,
    };
  }
  return {
    ...base,
    settings: { grpcPort: 9701, httpPort: 9702 },
    resources: { db: created("local.docker.container", "pilot-default-postgres", { name: "pilot-default-postgres" }) },
    ...overrides,
  };
}

/** Writes the stack's state.json under $PILOT_HOME/stacks/<stack>/ (0600, as the store does). */
export function writeStack(home: string, stack: string, state: StackState): string {
  const dir = join(home, "stacks", stack);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "state.json");
  writeFileSync(file, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  return file;
}
