import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Image,
  type Instance,
} from "@aws-sdk/client-ec2";
import type { CreateContext, ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import { sendWithToken } from "./idempotency.js";
import {
  actions,
  attempt,
  firstOwned,
  isErrorCode,
  orGone,
  retryNotFound,
  sameSet,
  tagFilters,
  tagSpecs,
  untilVisible,
  waitFor,
  type AwsKindEnv,
} from "./shared.js";

/** Desired server VM. */
export interface InstanceSpec {
  instanceType: string;
  /** An explicit AMI (--ami); undefined = the newest Ubuntu 24.04 LTS image, looked up at create time. */
  ami?: string;
  subnetId: string;
  securityGroupIds: string[];
  keyName: string;
  instanceProfileName: string;
  /** Root volume size in GiB (Docker images and Waypoint data live there). */
  rootVolumeGb: number;
}

/** The server VM as recorded in state. */
export interface InstanceOut {
  instanceId: string;
  instanceType: string;
  imageId: string;
  state: string;
  subnetId: string;
  securityGroupIds: string[];
  privateIp?: string;
  availabilityZone?: string;
  /** The metadata service's token setting ("required" = IMDSv2 only); undefined when not read. */
  httpTokens?: string;
}

const TYPE = "aws.ec2.instance";
/** IMDSv2 only; hop limit 2 so the runner's containers reach it (the server role is scoped for that, server-policy.ts). */
const METADATA_OPTIONS = { HttpTokens: "required" as const, HttpEndpoint: "enabled" as const, HttpPutResponseHopLimit: 2 };
const GONE = ["InvalidInstanceID.NotFound"];
/** Canonical's AWS account: the only publisher whose "ubuntu-noble" images we trust. */
export const CANONICAL_OWNER = "099720109477";
const LIVE_STATES = ["pending", "running", "stopping", "stopped"];
/** How long an instance just launched may answer not-found before that counts. */
const VISIBLE = { intervalMs: 2_000, timeoutMs: 60_000 };

/** Graviton families ("t4g", "m7g", "c7gn") run arm64 images; everything else here is x86_64. */
export function architectureOf(instanceType: string): "arm64" | "x86_64" {
  // "a1" is the first Graviton generation: arm64 with no "g" in its name.
  return /^[a-z]+\d+g/.test(instanceType) || /^a1\./.test(instanceType) ? "arm64" : "x86_64";
}

/**
 * The newest Ubuntu 24.04 LTS (noble) server image from Canonical for an
 * architecture, via DescribeImages: never a hard-coded id, which differs per
 * region and goes stale with every security update.
 */
export async function findUbuntuImage(ec2: EC2Client, arch: "arm64" | "x86_64"): Promise<Image | undefined> {
  const ubuntuArch = arch === "arm64" ? "arm64" : "amd64";
  const res = await ec2.send(
    new DescribeImagesCommand({
      Owners: [CANONICAL_OWNER],
      Filters: [
        // "hvm-ssd-gp3" for current builds, "hvm-ssd" for older ones.
        { Name: "name", Values: [`ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-${ubuntuArch}-server-*`] },
        { Name: "architecture", Values: [arch] },
        { Name: "state", Values: ["available"] },
      ],
    }),
  );
  return (res.Images ?? [])
    .filter((i) => i.ImageId && i.CreationDate)
    .sort((a, b) => (a.CreationDate! < b.CreationDate! ? 1 : a.CreationDate! > b.CreationDate! ? -1 : 0))[0];
}

/** The image a create launches, as remembered in the write-ahead record. */
interface LaunchImage {
  imageId: string;
  rootDeviceName: string;
  architecture: string;
}

const isDead = (i: Instance) => i.State?.Name === "terminated" || i.State?.Name === "shutting-down";

function toOut(i: Instance): InstanceOut {
  return {
    instanceId: i.InstanceId!,
    instanceType: i.InstanceType!,
    imageId: i.ImageId!,
    state: i.State?.Name ?? "unknown",
    subnetId: i.SubnetId!,
    securityGroupIds: (i.SecurityGroups ?? []).map((g) => g.GroupId!).sort(),
    privateIp: i.PrivateIpAddress,
    availabilityZone: i.Placement?.AvailabilityZone,
    httpTokens: i.MetadataOptions?.HttpTokens,
  };
}

/** A fresh instance profile is not usable by EC2 for a few seconds (IAM is eventually consistent). */
function isProfileNotReady(err: unknown): boolean {
  return isErrorCode(err, "InvalidParameterValue") && /iamInstanceProfile|instance profile/i.test(String((err as Error).message));
}

/**
 * The Pilot server: an Ubuntu LTS VM in the public subnet. RunInstances is
 * idempotent by ClientToken (the node's token), so a create retried after a
 * crash returns the same instance instead of a second one.
 */
export function instanceKind(env: AwsKindEnv): ResourceKind<InstanceSpec, InstanceOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  async function describe(id: string): Promise<Instance | undefined> {
    const res = await orGone(GONE, () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    return res?.Reservations?.[0]?.Instances?.[0];
  }

  /**
   * Waits for the instance to reach `want`. A terminated instance stays listed
   * for an hour, so a missing one reads as "terminated" — except when
   * `justCreated`: right after RunInstances, DescribeInstances may answer
   * InvalidInstanceID.NotFound for a while, which then means "not visible yet".
   */
  async function waitState(action: string, id: string, want: string, ctx: { progress(m: string): void }, justCreated = false): Promise<Instance | undefined> {
    return attempt(action, () =>
      waitFor(env, { what: `instance ${id} to be ${want}`, intervalMs: 5_000, timeoutMs: 10 * 60_000, progress: ctx.progress }, async () => {
        const i = justCreated ? await untilVisible(env, `instance ${id}`, () => describe(id), VISIBLE) : await describe(id);
        const state = i?.State?.Name ?? "terminated";
        if (want !== "terminated" && (state === "terminated" || state === "shutting-down")) {
          const what = want === "running" ? "stopped while starting" : `was terminated while waiting for it to be ${want}`;
          throw new PilotError(`instance ${id} ${what}: ${i?.StateReason?.Message ?? state}.`, {
            hint: "Check the account's EC2 limits and the instance type's availability in this zone, then run again.",
          });
        }
        return { done: state === want, status: state, value: i };
      }),
    );
  }

  /**
   * The image to launch, settled once per create and written ahead with the
   * token (ctx.remember): the newest Ubuntu changes with every Canonical
   * build, and a retried RunInstances with the same token must send the same
   * request. A remembered image is reused while it still fits the spec.
   */
  async function chooseImage(action: string, spec: InstanceSpec, ctx: CreateContext): Promise<LaunchImage> {
    const prev = ctx.request;
    const arch = architectureOf(spec.instanceType);
    if (prev?.imageId && (spec.ami ? prev.imageId === spec.ami : prev.architecture === arch)) {
      return { imageId: prev.imageId, rootDeviceName: prev.rootDeviceName ?? "/dev/sda1", architecture: prev.architecture ?? arch };
    }
    const image = await resolveImage(action, spec);
    const chosen: LaunchImage = { imageId: image.ImageId!, rootDeviceName: image.RootDeviceName ?? "/dev/sda1", architecture: image.Architecture ?? arch };
    await ctx.remember?.({ ...chosen });
    return chosen;
  }

  async function resolveImage(action: string, spec: InstanceSpec): Promise<Image> {
    const image = await attempt(action, async () => {
      if (spec.ami) {
        const res = await ec2.send(new DescribeImagesCommand({ ImageIds: [spec.ami] }));
        return res.Images?.[0];
      }
      return findUbuntuImage(ec2, architectureOf(spec.instanceType));
    });
    if (!image) {
      throw new PilotError(
        spec.ami ? `${action}: AMI ${spec.ami} does not exist in ${env.region}.` : `${action}: no Ubuntu 24.04 LTS image from Canonical found in ${env.region}.`,
        { hint: spec.ami ? "Pass an AMI id from this region with --ami." : "Pass an Ubuntu 24.04 AMI id with --ami." },
      );
    }
    return image;
  }

  async function run(spec: InstanceSpec, image: LaunchImage, ctx: CreateContext, token: string): Promise<Instance> {
    const input = {
      ImageId: image.imageId,
      InstanceType: spec.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: token,
      SubnetId: spec.subnetId,
      SecurityGroupIds: spec.securityGroupIds,
      KeyName: spec.keyName,
      IamInstanceProfile: { Name: spec.instanceProfileName },
      // IMDSv2 only: a request forged through an app cannot read the role's credentials. Hop
      // limit 2 because the Waypoint runner asks for them from inside a Docker container.
      MetadataOptions: METADATA_OPTIONS,
      BlockDeviceMappings: [
        {
          DeviceName: image.rootDeviceName,
          Ebs: { VolumeSize: spec.rootVolumeGb, VolumeType: "gp3" as const, Encrypted: true, DeleteOnTermination: true },
        },
      ],
      TagSpecifications: tagSpecs(ctx.tags, "instance", "volume", "network-interface"),
    };
    // Retry only the instance-profile propagation delay (EC2 does not see the new profile yet), for up to two minutes.
    const res = await retryNotFound(env, isProfileNotReady, () => ec2.send(new RunInstancesCommand(input)), {
      intervalMs: 5_000,
      timeoutMs: 120_000,
      onRetry: () => ctx.progress("waiting for the instance profile to propagate"),
    });
    return res.Instances![0]!;
  }

  return {
    type: TYPE,
    async read(id) {
      const i = await attempt(act("read", id), () => describe(id));
      const state = i?.State?.Name;
      // A terminated instance lingers in Describe for an hour; to Pilot it is gone.
      if (!i || state === "terminated" || state === "shutting-down") return undefined;
      return toOut(i);
    },
    async find(tags) {
      const res = await attempt(act("find", tags.key), () =>
        ec2.send(
          new DescribeInstancesCommand({ Filters: [...tagFilters(tags), { Name: "instance-state-name", Values: LIVE_STATES }] }),
        ),
      );
      const i = firstOwned(res.Reservations?.flatMap((r) => r.Instances ?? []));
      return i ? { id: i.InstanceId!, out: toOut(i) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      const image = await chooseImage(action, spec, ctx);
      const launched = await attempt(action, () =>
        sendWithToken(ctx, {
          send: (token) => run(spec, image, ctx, token),
          // EC2 answers a reused ClientToken with the instance it made then, even one since terminated.
          deadAnswer: (i) => (isDead(i) ? `returned instance ${i.InstanceId}, which is ${i.State?.Name}` : undefined),
          liveFromToken: async (token) => {
            const res = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "client-token", Values: [token] }, { Name: "instance-state-name", Values: LIVE_STATES }] }));
            return res.Reservations?.flatMap((r) => r.Instances ?? [])[0];
          },
        }),
      );
      const id = launched.InstanceId!;
      const state = launched.State?.Name;
      if (isDead(launched)) {
        // A brand-new token answered with a dead instance: EC2 stopped it at launch (capacity, limits).
        throw new PilotError(`${action}: instance ${id} is ${state} right after launch: ${launched.StateReason?.Message ?? "no reason given"}.`, {
          hint: "Check the account's EC2 limits and the instance type's availability in this zone, then run again.",
        });
      }
      const running = state === "running" ? launched : await waitState(action, id, "running", ctx, true);
      return { id, out: toOut(running ?? launched) };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      const res = await attempt(action, () => orGone(GONE, () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))));
      if (!res) return;
      // Wait for "terminated": until then its network interface keeps the subnet and security group busy.
      await waitState(action, id, "terminated", ctx);
    },
    diff(spec, out) {
      if (spec.ami && spec.ami !== out.imageId) return { result: "replace", reason: `AMI ${out.imageId} → ${spec.ami}` };
      if (spec.subnetId !== out.subnetId) return { result: "replace", reason: "the subnet changed" };
      if (spec.instanceType !== out.instanceType) {
        const [was, will] = [architectureOf(out.instanceType), architectureOf(spec.instanceType)];
        if (was !== will && !spec.ami) {
          // The image is per architecture: an x86_64 root volume cannot boot on Graviton, nor the reverse.
          return { result: "replace", reason: `instance type ${out.instanceType} → ${spec.instanceType} changes the architecture (${was} → ${will}): needs a new image` };
        }
        // Changed in place: stop, modify, start. The root volume (Waypoint's data) and the Elastic IP stay.
        return { result: "update", reason: `instance type ${out.instanceType} → ${spec.instanceType}: stops and starts the server`, disruptive: true };
      }
      if (!sameSet(spec.securityGroupIds, out.securityGroupIds)) return { result: "update", reason: "security groups differ" };
      // IMDSv1 answers credentials to any plain GET (an SSRF in an app is enough): Pilot launches with tokens required.
      if (out.httpTokens !== undefined && out.httpTokens !== "required") {
        return { result: "update", reason: `metadata tokens (IMDSv2) are ${out.httpTokens}, not required` };
      }
      if (out.state === "stopped" || out.state === "stopping") return { result: "update", reason: `instance is ${out.state}` };
      // Adopted from an interrupted run (or read again) while still starting: update waits until it is running.
      if (out.state === "pending") return { result: "update", reason: "still being created; waiting until it is running" };
      return { result: "same" };
    },
    async update(id, spec, out) {
      const action = act("update", id);
      const noProgress = { progress: () => undefined };
      let state = out.state;
      let seen: Instance | undefined;
      // Neither stop nor start is accepted mid-transition: let it settle first (and an adopted pending one become usable).
      if (state === "pending") state = (seen = await waitState(action, id, "running", noProgress))?.State?.Name ?? state;
      if (state === "stopping") state = (seen = await waitState(action, id, "stopped", noProgress))?.State?.Name ?? state;
      let changed = false;
      if (spec.instanceType !== out.instanceType) {
        // EC2 changes an instance type only while the instance is stopped; its EBS root volume stays.
        if (state !== "stopped") {
          await attempt(action, () => ec2.send(new StopInstancesCommand({ InstanceIds: [id] })));
          await waitState(action, id, "stopped", noProgress);
          state = "stopped";
        }
        try {
          await attempt(action, () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: spec.instanceType } })));
        } catch (err) {
          // Not left stopped by a type EC2 refuses (not offered in this zone, wrong architecture): start it again as it was.
          await ec2.send(new StartInstancesCommand({ InstanceIds: [id] })).catch(() => undefined);
          throw err instanceof PilotError
            ? new PilotError(err.message, { hint: `The server was started again as ${out.instanceType}. Choose an --instance-type offered in its zone, or leave it as it was.`, cause: err })
            : err;
        }
        changed = true;
      }
      if (!sameSet(spec.securityGroupIds, out.securityGroupIds)) {
        await attempt(action, () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: spec.securityGroupIds })));
        changed = true;
      }
      if (out.httpTokens !== undefined && out.httpTokens !== "required") {
        // Changed on a running instance, no restart; the same options it was launched with.
        await attempt(action, () => ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, ...METADATA_OPTIONS })));
        changed = true;
      }
      if (state === "stopped") {
        await attempt(action, () => ec2.send(new StartInstancesCommand({ InstanceIds: [id] })));
        changed = true;
      }
      if (!changed && seen && state === "running") return toOut(seen);
      const i = await waitState(action, id, "running", noProgress);
      return toOut(i!);
    },
  };
}
