import type { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import { CLOUD_PLATFORM_SCOPE } from "./clients.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, deleteByOperation, hasStackLabels, lastSegment, lookupsByName, orGone, requestIdOf, sameSet, stackLabels, waitComputeOp, waitFor, type GcpKindEnv } from "./shared.js";

/** Desired server VM. */
export interface InstanceSpec {
  name: string;
  machineType: string;
  subnetworkSelfLink: string;
  /** The static external address the VM answers on. */
  natIp: string;
  serviceAccountEmail: string;
  /** The network tag the firewall rule targets. */
  networkTag: string;
  /** The stack's `ssh-ed25519 ...` public key, for user "ubuntu". */
  publicKey: string;
  diskGb: number;
}

/** The server VM as recorded in state (id = instance name; the zone is the stack's). */
export interface InstanceOut {
  name: string;
  machineType: string;
  status: string;
  /** The image it was created from; a newer image later does not replace a running server. */
  image: string;
  subnetwork: string;
  natIp?: string;
  privateIp?: string;
  serviceAccount?: string;
  tags: string[];
  /** The `ubuntu:` line of its ssh-keys metadata. */
  sshKey?: string;
  /** When it last started (RFC 3339): how long its guest agent has had to publish the host keys. */
  startedAt?: string;
}

const TYPE = "gcp.compute.instance";
/** Canonical's image project and the Ubuntu 24.04 LTS families in it. */
export const UBUNTU_PROJECT = "ubuntu-os-cloud";
const SSH_USER = "ubuntu";

/** Arm machine families (Tau T2A, Axion C4A) boot arm64 images; everything else here is x86-64. */
export function imageFamilyFor(machineType: string): string {
  return /^(t2a|c4a)-/.test(machineType) ? "ubuntu-2404-lts-arm64" : "ubuntu-2404-lts-amd64";
}

function metadataValue(i: compute_v1.Schema$Instance, key: string): string | undefined {
  return i.metadata?.items?.find((x) => x.key === key)?.value ?? undefined;
}

function toOut(i: compute_v1.Schema$Instance): InstanceOut {
  const nic = i.networkInterfaces?.[0];
  const sshKey = metadataValue(i, "ssh-keys")
    ?.split("\n")
    .find((l) => l.startsWith(`${SSH_USER}:`));
  return {
    name: i.name!,
    machineType: lastSegment(i.machineType),
    status: i.status ?? "UNKNOWN",
    // Recorded as a label at create time: reading it back from the boot disk would cost a call per run.
    image: i.labels?.["pilot-image"] ?? "",
    subnetwork: nic?.subnetwork ?? "",
    natIp: nic?.accessConfigs?.[0]?.natIP ?? undefined,
    privateIp: nic?.networkIP ?? undefined,
    serviceAccount: i.serviceAccounts?.[0]?.email ?? undefined,
    tags: [...(i.tags?.items ?? [])].sort(),
    ...(sshKey ? { sshKey } : {}),
    ...(i.lastStartTimestamp || i.creationTimestamp ? { startedAt: i.lastStartTimestamp ?? i.creationTimestamp! } : {}),
  };
}

/** Instance metadata: only the stack's key may log in, and Google's guest agent publishes host keys. */
function metadataItems(spec: InstanceSpec): compute_v1.Schema$Metadata["items"] {
  return [
    { key: "ssh-keys", value: `${SSH_USER}:${spec.publicKey}` },
    // Project-wide keys would let every project member's key in.
    { key: "block-project-ssh-keys", value: "TRUE" },
    // Pilot manages this VM's one key itself; OS Login would replace metadata keys with IAM logins.
    { key: "enable-oslogin", value: "FALSE" },
    // The guest agent writes the VM's SSH host keys to guest attributes (hostkeys/), where Pilot
    // reads them before its first SSH connection instead of trusting the first key it sees.
    { key: "enable-guest-attributes", value: "TRUE" },
  ];
}

/**
 * The Pilot server: an Ubuntu 24.04 LTS VM, Shielded, running as the stack's
 * service account, with the static address and the stack's SSH key. Inserts
 * carry a requestId derived from the node's token, so a retried create never
 * makes a second VM.
 */
export function instanceKind(env: GcpKindEnv): ResourceKind<InstanceSpec, InstanceOut> {
  const { compute } = env.clients;
  const act = actions(TYPE, env.zone);
  const get = (name: string) => orGone(async () => (await compute.instances.get({ project: env.project, zone: env.zone, instance: name })).data);

  async function untilStatus(action: string, name: string, want: string, progress: (m: string) => void): Promise<compute_v1.Schema$Instance> {
    const i = await attempt(action, () =>
      waitFor(env, { what: `instance ${name} to be ${want}`, intervalMs: 5_000, timeoutMs: 10 * 60_000, progress }, async () => {
        const i = await get(name);
        if (!i) throw new PilotError(`instance ${name} disappeared while starting.`);
        return { done: i.status === want, status: (i.status ?? "UNKNOWN").toLowerCase(), value: i };
      }),
    );
    return i!;
  }

  async function op(action: string, what: string, call: () => Promise<{ data: compute_v1.Schema$Operation }>, progress?: (m: string) => void) {
    await attempt(action, async () => waitComputeOp(env, (await call()).data, { what, progress }));
  }

  return {
    type: TYPE,
    ...lookupsByName<InstanceSpec, compute_v1.Schema$Instance, InstanceOut>(act, get, toOut, (i, tags) => hasStackLabels(i.labels, tags)),
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      if (!spec.publicKey) throw new PilotError(`${action}: the stack's SSH key has not been generated.`);
      const result = await createOrAdopt({
        action,
        name: `instance ${spec.name}`,
        create: async () => {
          // Looked up at create time only: a newer image later is not a reason to replace the server.
          const image = (await compute.images.getFromFamily({ project: UBUNTU_PROJECT, family: imageFamilyFor(spec.machineType) })).data;
          const body: compute_v1.Schema$Instance = {
            name: spec.name,
            description: "Pilot server: Waypoint server and runner",
            machineType: `zones/${env.zone}/machineTypes/${spec.machineType}`,
            labels: { ...stackLabels(ctx.tags), "pilot-image": image.name! },
            tags: { items: [spec.networkTag] },
            disks: [
              {
                boot: true,
                autoDelete: true,
                initializeParams: { sourceImage: image.selfLink!, diskSizeGb: String(spec.diskGb), diskType: `zones/${env.zone}/diskTypes/pd-balanced` },
              },
            ],
            networkInterfaces: [
              { subnetwork: spec.subnetworkSelfLink, accessConfigs: [{ name: "External NAT", type: "ONE_TO_ONE_NAT", natIP: spec.natIp, networkTier: "PREMIUM" }] },
            ],
            serviceAccounts: [{ email: spec.serviceAccountEmail, scopes: [CLOUD_PLATFORM_SCOPE] }],
            metadata: { items: metadataItems(spec) },
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
          };
          return (await compute.instances.insert({ project: env.project, zone: env.zone, requestId: requestIdOf(ctx.token), requestBody: body })).data;
        },
        isAlreadyExists,
        existing: () => get(spec.name),
        isOurs: (i) => hasStackLabels(i.labels, ctx.tags),
      });
      if (result.created) await attempt(action, () => waitComputeOp(env, result.created, { what: `instance ${spec.name}`, progress: ctx.progress }));
      const running = await untilStatus(action, spec.name, "RUNNING", ctx.progress);
      return { id: spec.name, out: toOut(running) };
    },
    async delete(id, _out, ctx) {
      const remove = () => compute.instances.delete({ project: env.project, zone: env.zone, instance: id });
      await deleteByOperation(env, act("delete", ctx.tags.key), `delete instance ${id}`, remove, ctx.progress);
    },
    diff(spec, out) {
      if (spec.subnetworkSelfLink !== out.subnetwork) return { result: "replace", reason: "the subnetwork changed" };
      if (spec.serviceAccountEmail !== out.serviceAccount) return { result: "replace", reason: "the service account changed" };
      if (spec.machineType !== out.machineType) {
        return { result: "update", reason: `machine type ${out.machineType} → ${spec.machineType}: stops and starts the server`, disruptive: true };
      }
      if (spec.natIp !== out.natIp) return { result: "update", reason: `external address ${out.natIp ?? "none"} → ${spec.natIp}` };
      if (out.sshKey !== `${SSH_USER}:${spec.publicKey}`) return { result: "update", reason: "the stack's SSH key is not in its metadata" };
      if (!sameSet([spec.networkTag], out.tags)) return { result: "update", reason: "network tags differ" };
      if (out.status === "TERMINATED" || out.status === "STOPPED" || out.status === "SUSPENDED") return { result: "update", reason: `instance is ${out.status.toLowerCase()}` };
      // Adopted from an interrupted run while still starting: update waits until it is RUNNING.
      if (out.status === "PROVISIONING" || out.status === "STAGING") return { result: "update", reason: `instance is ${out.status.toLowerCase()}; waiting until it is running` };
      return { result: "same" };
    },
    async update(id, spec, out) {
      const action = act("update", id);
      const progress = () => undefined;
      let i = (await attempt(action, () => get(id)))!;
      if (spec.machineType !== out.machineType) {
        // Compute changes a machine type only while the VM is stopped: stop, change, start (the disk and its data stay).
        if (i.status !== "TERMINATED") await op(action, `stop ${id}`, () => compute.instances.stop({ project: env.project, zone: env.zone, instance: id }));
        await op(action, `resize ${id}`, () =>
          compute.instances.setMachineType({ project: env.project, zone: env.zone, instance: id, requestBody: { machineType: `zones/${env.zone}/machineTypes/${spec.machineType}` } }),
        );
      }
      const keyLine = `${SSH_USER}:${spec.publicKey}`;
      if (out.sshKey !== keyLine) {
        const items = (i.metadata?.items ?? []).filter((x) => !metadataItems(spec)!.some((m) => m.key === x.key));
        await op(action, `set metadata of ${id}`, () =>
          compute.instances.setMetadata({ project: env.project, zone: env.zone, instance: id, requestBody: { fingerprint: i.metadata?.fingerprint, items: [...items, ...metadataItems(spec)!] } }),
        );
      }
      if (!sameSet([spec.networkTag], out.tags)) {
        await op(action, `set tags of ${id}`, () =>
          compute.instances.setTags({ project: env.project, zone: env.zone, instance: id, requestBody: { fingerprint: i.tags?.fingerprint, items: [spec.networkTag] } }),
        );
      }
      if (spec.natIp !== out.natIp) {
        const nic = i.networkInterfaces?.[0];
        const current = nic?.accessConfigs?.[0];
        if (current) {
          await op(action, `detach address of ${id}`, () =>
            compute.instances.deleteAccessConfig({ project: env.project, zone: env.zone, instance: id, networkInterface: nic!.name!, accessConfig: current.name! }),
          );
        }
        await op(action, `attach address to ${id}`, () =>
          compute.instances.addAccessConfig({
            project: env.project,
            zone: env.zone,
            instance: id,
            networkInterface: nic?.name ?? "nic0",
            requestBody: { name: "External NAT", type: "ONE_TO_ONE_NAT", natIP: spec.natIp, networkTier: "PREMIUM" },
          }),
        );
      }
      i = (await attempt(action, () => get(id)))!;
      if (i.status === "TERMINATED" || i.status === "STOPPED") await op(action, `start ${id}`, () => compute.instances.start({ project: env.project, zone: env.zone, instance: id }));
      if (i.status === "SUSPENDED") await op(action, `resume ${id}`, () => compute.instances.resume({ project: env.project, zone: env.zone, instance: id }));
      return toOut(await untilStatus(action, id, "RUNNING", progress));
    },
  };
}
