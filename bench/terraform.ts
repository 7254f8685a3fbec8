/**
 * Pilot beside Terraform on the same stack and the same moto (issue 8):
 * `pilot up-server --provider aws` (from dist/, --skip-bootstrap) and
 * `terraform` with the configuration in ./terraform/ (the same resources,
 * written the way a Terraform user would), each against its own fresh
 * moto_server behind its own counting proxy (./api-counter.ts). The tools
 * alternate phase by phase, one run each:
 *
 *   create   `pilot up-server`               vs `terraform apply`
 *   no-op    `pilot up-server` again         vs `terraform plan` (no changes)
 *   drift    the same rule revoked out of band from both server security
 *            groups, then `pilot up-server`  vs `terraform apply`; both checked repaired
 *   destroy  `pilot teardown`                vs `terraform destroy`; both checked empty
 *
 * After the creates, both clouds are described directly (not through the
 * proxies) and compared attribute by attribute, so the two stacks are shown
 * to be the same one rather than assumed to be. Needs a `terraform` binary on
 * PATH and a local mirror of the AWS provider ($PILOT_TF_PLUGIN_MIRROR, else
 * /opt/tf-plugins); without either the section says so and is skipped. No
 * registry is contacted: `terraform init` installs from the mirror only.
 */
import { EC2Client, DescribeSecurityGroupsCommand, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_DB_INSTANCE_CLASS, DEFAULT_INSTANCE_TYPE } from "../src/providers/aws/settings.js";
import { serverPolicy } from "../src/providers/aws/server-policy.js";
import { generatePassword } from "../src/providers/password.js";
import { generateEd25519 } from "../src/providers/ssh-key.js";
import { motoEnv, startMoto, type MotoServer } from "../test/support/moto.js";
import { startApiCounter, type ApiCounter } from "./api-counter.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const TF_CONFIG = fileURLToPath(new URL("./terraform/", import.meta.url));
const STACK = "bench";
const REGION = "us-east-1";
const ALLOW_CIDR = "203.0.113.9/32";
const UP = ["up-server", "--name", STACK, "--provider", "aws", "--region", REGION, "--allow-cidr", ALLOW_CIDR, "--skip-bootstrap", "--json"];
// Terraform's configuration skips the final snapshot too (skip_final_snapshot = true).
const TEARDOWN = ["teardown", "--name", STACK, "--yes", "--skip-final-snapshot", "--json"];
/** The rule both drift phases revoke out of band: SSH from the allowed range, on the server's group. */
const DRIFT_PORT = 22;
const DEFAULT_MIRROR = "/opt/tf-plugins";

/** What was found on the machine, or why the section is skipped. */
export type TerraformTools = { binary: string; mirror: string; providerVersion: string } | { missing: string };

/** `terraform` on PATH and an AWS provider for this platform in the mirror folder ($PILOT_TF_PLUGIN_MIRROR or /opt/tf-plugins). */
export function findTerraformTools(env: NodeJS.ProcessEnv = process.env): TerraformTools {
  const binary = (env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, "terraform"))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  if (!binary) return { missing: "no `terraform` binary on PATH" };
  const mirror = env.PILOT_TF_PLUGIN_MIRROR || DEFAULT_MIRROR;
  // The filesystem-mirror layout: <mirror>/<registry host>/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_*.
  const platform = `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`;
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const host of list(mirror)) {
    const base = join(mirror, host, "hashicorp", "aws");
    for (const version of list(base).sort().reverse()) {
      if (list(join(base, version, platform)).some((f) => f.startsWith("terraform-provider-aws"))) return { binary, mirror, providerVersion: version };
    }
  }
  return { missing: `no AWS provider for ${platform} in the plugin mirror ${mirror} (set PILOT_TF_PLUGIN_MIRROR to another one)` };
}

interface Run {
  ms: number;
  /** User + system CPU time of the command and every process it waited for (Terraform's provider plugin too). */
  cpuMs: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Bash's `times` prints "XmY.YYYs XmY.YYYs" per line; the second line is the children's user and system time. */
function parseTimes(text: string): number {
  const line = text.trim().split("\n")[1] ?? "";
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
}

/**
 * Runs one command to completion; resolves with its wall time, CPU time and output
 * (never rejects on a non-zero exit). It runs under bash only to read its CPU time
 * with `times` on fd 3: on a shared machine CPU time is steadier than wall time.
 */
function run(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const script = '"$@"; rc=$?; times >&3; exit $rc';
    const child = spawn("bash", ["-c", script, "bash", cmd, ...args], { env: opts.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let times = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (d) => (times += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: performance.now() - started, cpuMs: parseTimes(times), code: code ?? 1, stdout, stderr }));
  });
}

function expectExit(what: string, r: Run, ...ok: number[]): Run {
  if (!(ok.length ? ok : [0]).includes(r.code)) throw new Error(`${what} exited ${r.code}:\n${(r.stderr || r.stdout).slice(-4000)}`);
  return r;
}

/** One tool's side of the benchmark: its moto, its proxy, and how it is run. */
interface Side {
  moto: MotoServer;
  counter: ApiCounter;
}

interface Measured {
  ms: number;
  cpuMs: number;
  calls: number;
  counts: Record<string, number>;
}

interface Phase {
  name: string;
  pilot: Measured;
  terraform: Measured;
  note?: string;
}

/** Times `fn` and counts the API calls it makes through the side's proxy. */
async function measured(side: Side, fn: () => Promise<Run>): Promise<Measured & { run: Run }> {
  side.counter.reset();
  const r = await fn();
  return { run: r, ms: r.ms, cpuMs: r.cpuMs, calls: side.counter.total(), counts: side.counter.counts() };
}

/** Terraform's resources that took 5 s or more ("aws_db_instance.main: Creation complete after 1m20s"), slowest first. */
function slowResources(stdout: string): string {
  const secs = (t: string) => [...t.matchAll(/(\d+)([hms])/g)].reduce((s, m) => s + Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as "h" | "m" | "s"], 0);
  const slow = [...stdout.matchAll(/^(\S+): (?:Creation|Destruction|Modifications) complete after (\S+)/gm)]
    .map((m) => ({ what: m[1], s: secs(m[2]) }))
    .filter((r) => r.s >= 5)
    .sort((a, b) => b.s - a.s);
  return slow.length ? `; slowest: ${slow.map((r) => `${r.what} ${r.s} s`).join(", ")}` : "";
}

/** The server security group of the stack in one moto, read directly (not counted). */
async function serverGroup(ec2: EC2Client) {
  const res = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "tag:pilot:stack", Values: [STACK] },
        { Name: "tag:pilot:key", Values: ["sg-server"] },
      ],
    }),
  );
  const sg = res.SecurityGroups?.[0];
  if (!sg?.GroupId) throw new Error("the server security group is missing");
  return sg;
}

const hasDriftRule = (sg: Awaited<ReturnType<typeof serverGroup>>) =>
  (sg.IpPermissions ?? []).some((p) => p.IpProtocol === "tcp" && p.FromPort === DRIFT_PORT && (p.IpRanges ?? []).some((r) => r.CidrIp === ALLOW_CIDR));

/** The out-of-band change: revoke SSH from the allowed range on the server's group. */
async function makeDrift(ec2: EC2Client): Promise<void> {
  const sg = await serverGroup(ec2);
  await ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: sg.GroupId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: DRIFT_PORT, ToPort: DRIFT_PORT, IpRanges: [{ CidrIp: ALLOW_CIDR }] }],
    }),
  );
  if (hasDriftRule(await serverGroup(ec2))) throw new Error("the out-of-band revoke did not take");
}

function directEc2(moto: MotoServer): EC2Client {
  return new EC2Client({ endpoint: moto.url, region: REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
}

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : "—");
const byAction = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([action, n]) => `${action} ${n}`)
    .join(", ");

export default async function benchTerraform(): Promise<void> {
  const tools = findTerraformTools();
  if ("missing" in tools) {
    console.log(`terraform: skipped: ${tools.missing}`);
    return;
  }
  const version = spawnSync(tools.binary, ["version", "-json"], { encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  const tfVersion = (() => {
    try {
      return JSON.parse(version.stdout).terraform_version as string;
    } catch {
      return "unknown";
    }
  })();

  const scratch = mkdtempSync(join(tmpdir(), "pilot-bench-tf-"));
  const home = join(scratch, "pilot-home");
  const work = join(scratch, "terraform");
  const sides: Partial<Record<"pilot" | "terraform", Side>> = {};
  try {
    // One fresh moto per tool: each starts from an empty account and is counted alone.
    for (const name of ["pilot", "terraform"] as const) {
      const moto = await startMoto();
      sides[name] = { moto, counter: await startApiCounter(moto.url) };
    }
    const p = sides.pilot!;
    const t = sides.terraform!;
    const pilotEnv = { ...process.env, CI: "true", ...motoEnv(p.counter.url), PILOT_HOME: home };
    const pilot = (args: string[]) => run(process.execPath, [CLI, ...args], { env: pilotEnv });

    // Terraform's working folder: the configuration, its inputs, and a CLI config that installs from the mirror only.
    mkdirSync(work);
    for (const f of readdirSync(TF_CONFIG).filter((f) => f.endsWith(".tf"))) copyFileSync(join(TF_CONFIG, f), join(work, f));
    const cliConfig = join(scratch, "terraform.rc");
    writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(tools.mirror)}\n  }\n}\n`);
    const stackId = randomUUID();
    writeFileSync(
      join(work, "terraform.tfvars.json"),
      JSON.stringify({
        endpoint: t.counter.url,
        region: REGION,
        stack: STACK,
        stack_id: stackId,
        allow_cidrs: [ALLOW_CIDR],
        public_apps: false, // UP passes no --public-apps
        instance_type: DEFAULT_INSTANCE_TYPE,
        db_instance_class: DEFAULT_DB_INSTANCE_CLASS,
        public_key: generateEd25519(`pilot-${STACK}`).public.trim(),
        db_password: generatePassword(),
        // Pilot's own policy, with a placeholder the configuration replaces with the VPC's id.
        server_policy: serverPolicy({ region: REGION, stack: STACK, stackId, vpcId: "VPC_ID" }),
      }),
    );
    const tfEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TF_CLI_CONFIG_FILE: cliConfig,
      CHECKPOINT_DISABLE: "1", // no version check against the internet
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      AWS_EC2_METADATA_DISABLED: "true",
      NO_PROXY: "127.0.0.1,localhost",
      no_proxy: "127.0.0.1,localhost",
    };
    for (const k of ["TF_LOG", "TF_LOG_PATH", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR", "AWS_PROFILE", "AWS_ENDPOINT_URL"]) delete tfEnv[k];
    const terraform = (args: string[]) => run(tools.binary, [...args, "-input=false", "-no-color"], { env: tfEnv, cwd: work });

    const init = expectExit("terraform init", await terraform(["init"]));
    console.log(
      `terraform: Terraform ${tfVersion}, AWS provider ${tools.providerVersion} from ${tools.mirror}; \`terraform init\` ${init.ms.toFixed(0)} ms (once, not in the table)`,
    );

    const phases: Phase[] = [];
    const phase = async (name: string, pilotRun: () => Promise<Run>, tfRun: () => Promise<Run>, check: (pr: Run, tr: Run) => Promise<string | void> | string | void) => {
      const a = await measured(p, pilotRun);
      const b = await measured(t, tfRun);
      const note = await check(a.run, b.run);
      phases.push({ name, pilot: a, terraform: b, note: note || undefined });
    };
    const pilotPlan = (r: Run, what: string) => {
      const doc = JSON.parse(expectExit(`pilot ${what}`, r).stdout);
      return (doc.plan as { key: string; action: string }[]).filter((c) => c.action !== "keep").map((c) => `${c.key}: ${c.action}`);
    };
    const tfSummary = (r: Run) => (r.stdout.match(/(?:Apply|Destroy) complete! Resources: [^\n]*?(?=\.?$)/m)?.[0] ?? "(no summary)") + slowResources(r.stdout);

    await phase(
      "create",
      () => pilot(UP),
      () => terraform(["apply", "-auto-approve"]),
      (pr, tr) => {
        expectExit("pilot up-server (create)", pr);
        expectExit("terraform apply (create)", tr);
        return tfSummary(tr);
      },
    );

    // The two stacks, described straight from each moto and compared attribute by attribute.
    const lineage = JSON.parse(readFileSync(join(home, "stacks", STACK, "state.json"), "utf8")).lineage as string;
    const [mine, theirs] = await Promise.all([describeStack(p.moto.url, REGION, STACK, lineage), describeStack(t.moto.url, REGION, STACK, stackId)]);
    const cmp = compareStacks(mine, theirs);
    console.log(`terraform: equivalence: ${cmp.compared} attributes of ${cmp.resources} resources compared after both creates; ${cmp.differences.length} differ`);
    for (const d of cmp.differences) console.log(`terraform:   ${d}`);

    await phase(
      "no-op",
      () => pilot(UP),
      () => terraform(["plan", "-detailed-exitcode"]),
      (pr, tr) => {
        const changed = pilotPlan(pr, "up-server (no-op)");
        if (changed.length > 0) throw new Error(`pilot's re-run was not a no-op: ${changed.join(", ")}`);
        // -detailed-exitcode: 0 = no changes, 2 = changes.
        if (tr.code === 2) throw new Error(`terraform plan found changes on a fresh stack:\n${tr.stdout.slice(-4000)}`);
        expectExit("terraform plan", tr);
      },
    );

    const pEc2 = directEc2(p.moto);
    const tEc2 = directEc2(t.moto);
    await makeDrift(pEc2);
    await makeDrift(tEc2);
    await phase(
      "drift repair",
      () => pilot(UP),
      () => terraform(["apply", "-auto-approve"]),
      async (pr, tr) => {
        const changed = pilotPlan(pr, "up-server (drift)");
        expectExit("terraform apply (drift)", tr);
        const repaired = [hasDriftRule(await serverGroup(pEc2)), hasDriftRule(await serverGroup(tEc2))];
        if (!repaired[0] || !repaired[1]) throw new Error(`drift not repaired: pilot ${repaired[0]}, terraform ${repaired[1]}`);
        return `pilot: ${changed.join(", ")}; terraform: ${tfSummary(tr)}`;
      },
    );

    await phase(
      "destroy",
      () => pilot(TEARDOWN),
      () => terraform(["destroy", "-auto-approve"]),
      async (pr, tr) => {
        expectExit("pilot teardown", pr);
        expectExit("terraform destroy", tr);
        const left = [await describeStack(p.moto.url, REGION, STACK, lineage), await describeStack(t.moto.url, REGION, STACK, stackId)].map((s) => s.count);
        if (left[0] + left[1] > 0) throw new Error(`resources left after destroy: pilot ${left[0]}, terraform ${left[1]}`);
        return tfSummary(tr);
      },
    );
    pEc2.destroy();
    tEc2.destroy();

    console.log("terraform: one run each, alternating (Pilot first in each phase); ratio = Pilot ÷ Terraform; CPU = user + system of the process tree");
    console.log("| phase | Pilot ms | Terraform ms | time ratio | Pilot API calls | Terraform API calls | call ratio | CPU ms, Pilot / Terraform |");
    console.log("|---|---|---|---|---|---|---|---|");
    for (const ph of phases) {
      console.log(
        `| ${ph.name} | ${ph.pilot.ms.toFixed(0)} | ${ph.terraform.ms.toFixed(0)} | ${ratio(ph.pilot.ms, ph.terraform.ms)} | ${ph.pilot.calls} | ${ph.terraform.calls} | ${ratio(ph.pilot.calls, ph.terraform.calls)} | ${ph.pilot.cpuMs.toFixed(0)} / ${ph.terraform.cpuMs.toFixed(0)} (${ratio(ph.pilot.cpuMs, ph.terraform.cpuMs)}) |`,
      );
    }
    for (const ph of phases) {
      if (ph.note) console.log(`terraform: ${ph.name}: ${ph.note}`);
      console.log(`terraform: ${ph.name}: Pilot's calls: ${byAction(ph.pilot.counts)}`);
      console.log(`terraform: ${ph.name}: Terraform's calls: ${byAction(ph.terraform.counts)}`);
    }
  } finally {
    for (const side of Object.values(sides)) {
      await side.counter.close();
      await side.moto.stop();
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

// --- Equivalence: both stacks described straight from their moto and compared.

/** One stack as read back from a cloud: flattened "resource.attribute" → normalised value. */
export interface StackShape {
  /** Resources found (0 after a clean destroy). */
  count: number;
  attrs: Record<string, string | number | boolean | undefined>;
}

/** JSON with object keys sorted, so two serialisations of one document compare equal. */
function canonicalJson(text: string | undefined): string | undefined {
  if (!text) return text;
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sort(x)])) : v;
  const decoded = text.startsWith("%7B") ? decodeURIComponent(text) : text;
  return JSON.stringify(sort(JSON.parse(decoded)));
}

/**
 * Reads every resource of the stack from one moto, directly (not through the
 * counting proxy), into names and values that do not depend on which tool
 * made them: ids become names (a security-group rule names the group it
 * allows, a subnet is known by its CIDR), the lineage becomes <stack-id>.
 */
export async function describeStack(url: string, region: string, stack: string, stackId: string): Promise<StackShape> {
  const [{ EC2Client, DescribeVpcsCommand, DescribeSubnetsCommand, DescribeInternetGatewaysCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeKeyPairsCommand, DescribeInstancesCommand, DescribeVolumesCommand, DescribeNetworkInterfacesCommand, DescribeAddressesCommand }, iamSdk, rdsSdk] =
    await Promise.all([import("@aws-sdk/client-ec2"), import("@aws-sdk/client-iam"), import("@aws-sdk/client-rds")]);
  const config = { endpoint: url, region, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
  const ec2 = new EC2Client(config);
  const iam = new iamSdk.IAMClient(config);
  const rds = new rdsSdk.RDSClient(config);
  const attrs: StackShape["attrs"] = {};
  let count = 0;
  let vpcId = "\u0000";
  const norm = (v: string) =>
    v
      .split(stackId)
      .join("<stack-id>")
      .split(stackId.slice(0, 8))
      .join("<id8>")
      .split(vpcId)
      .join("<vpc>")
      .replace(new RegExp(`^pilot-${stack}-[0-9a-f]{8}$`), `pilot-${stack}-<hash>`);
  const put = (path: string, v: string | number | boolean | undefined) => (attrs[path] = typeof v === "string" ? norm(v) : v);
  const putTags = (prefix: string, tags: { Key?: string; Value?: string }[] | undefined) => {
    for (const t of tags ?? []) put(`${prefix}.tag[${t.Key}]`, t.Value);
  };
  try {
    const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:pilot:stack", Values: [stack] }] }))).Vpcs?.[0];
    if (vpc) {
      count++;
      vpcId = vpc.VpcId!;
      put("vpc.cidr", vpc.CidrBlock);
      putTags("vpc", vpc.Tags);
      const inVpc = [{ Name: "vpc-id", Values: [vpcId] }];

      const subnetName = new Map<string, string>();
      for (const s of (await ec2.send(new DescribeSubnetsCommand({ Filters: inVpc }))).Subnets ?? []) {
        count++;
        const name = `subnet[${s.CidrBlock}]`;
        subnetName.set(s.SubnetId!, name);
        put(`${name}.zone`, s.AvailabilityZone);
        put(`${name}.public-ip-on-launch`, s.MapPublicIpOnLaunch);
        putTags(name, s.Tags);
      }
      for (const g of (await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: "attachment.vpc-id", Values: [vpcId] }] }))).InternetGateways ?? []) {
        count++;
        put("igw.attached", g.Attachments?.some((a) => a.VpcId === vpcId));
        putTags("igw", g.Tags);
      }
      for (const rt of (await ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc }))).RouteTables ?? []) {
        if (rt.Associations?.some((a) => a.Main)) continue; // the VPC's main table, made by AWS
        count++;
        for (const r of rt.Routes ?? []) put(`route-table.route[${r.DestinationCidrBlock}]`, r.GatewayId?.startsWith("igw-") ? "the stack's internet gateway" : r.GatewayId);
        put("route-table.subnets", (rt.Associations ?? []).map((a) => subnetName.get(a.SubnetId!) ?? a.SubnetId).sort().join(" "));
        putTags("route-table", rt.Tags);
      }
      const groups = ((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: inVpc }))).SecurityGroups ?? []).filter((g) => g.GroupName !== "default");
      const groupName = new Map(groups.map((g) => [g.GroupId!, g.GroupName!]));
      const rules = (perms: import("@aws-sdk/client-ec2").IpPermission[] | undefined) =>
        (perms ?? [])
          .flatMap((p) => {
            const head = `${p.IpProtocol}:${p.FromPort ?? "all"}-${p.ToPort ?? "all"}`;
            return [...(p.IpRanges ?? []).map((r) => `${head} from ${r.CidrIp}`), ...(p.UserIdGroupPairs ?? []).map((u) => `${head} from ${groupName.get(u.GroupId!) ?? u.GroupId}`)];
          })
          .sort()
          .join(", ");
      for (const g of groups) {
        count++;
        const name = `sg[${g.GroupName}]`;
        put(`${name}.description`, g.Description);
        put(`${name}.ingress`, rules(g.IpPermissions));
        put(`${name}.egress`, rules(g.IpPermissionsEgress));
        putTags(name, g.Tags);
      }

      const live = [...inVpc, { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] }];
      const instances = ((await ec2.send(new DescribeInstancesCommand({ Filters: live }))).Reservations ?? []).flatMap((r) => r.Instances ?? []);
      for (const i of instances) {
        count++;
        put("server.type", i.InstanceType);
        put("server.image", i.ImageId);
        put("server.subnet", subnetName.get(i.SubnetId!));
        put("server.security-groups", (i.SecurityGroups ?? []).map((g) => g.GroupName).sort().join(" "));
        put("server.key-name", i.KeyName);
        put("server.instance-profile", i.IamInstanceProfile?.Arn?.split("/").pop());
        put("server.metadata.http-tokens", i.MetadataOptions?.HttpTokens);
        put("server.metadata.http-endpoint", i.MetadataOptions?.HttpEndpoint);
        put("server.metadata.hop-limit", i.MetadataOptions?.HttpPutResponseHopLimit);
        putTags("server", i.Tags);
        for (const m of i.BlockDeviceMappings ?? []) put(`server.volume[${m.DeviceName}].delete-on-termination`, m.Ebs?.DeleteOnTermination);
        for (const v of (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [i.InstanceId!] }] }))).Volumes ?? []) {
          const name = `server.volume[${v.Attachments?.[0]?.Device}]`;
          put(`${name}.size`, v.Size);
          put(`${name}.type`, v.VolumeType);
          put(`${name}.encrypted`, v.Encrypted);
          putTags(name, v.Tags);
        }
        for (const n of (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [i.InstanceId!] }] }))).NetworkInterfaces ?? []) {
          putTags(`server.interface[${n.Attachment?.DeviceIndex}]`, n.TagSet);
        }
      }
      for (const a of (await ec2.send(new DescribeAddressesCommand({}))).Addresses ?? []) {
        count++;
        put("eip.domain", a.Domain);
        put("eip.associated-with", instances.some((i) => i.InstanceId === a.InstanceId) ? "server" : a.InstanceId);
        putTags("eip", a.Tags);
      }
    }
    for (const k of (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? []) {
      count++;
      const name = `key-pair[${norm(k.KeyName!)}]`;
      put(`${name}.type`, k.KeyType);
      putTags(name, k.Tags);
    }

    // IAM and RDS take no tag filter; each tool has a moto of its own, so all that is there is the stack's.
    for (const r of (await iam.send(new iamSdk.ListRolesCommand({}))).Roles ?? []) {
      count++;
      const role = (await iam.send(new iamSdk.GetRoleCommand({ RoleName: r.RoleName }))).Role!;
      const name = `role[${norm(role.RoleName!)}]`;
      put(`${name}.description`, role.Description);
      put(`${name}.trust-policy`, canonicalJson(role.AssumeRolePolicyDocument));
      putTags(name, role.Tags);
      for (const policy of (await iam.send(new iamSdk.ListRolePoliciesCommand({ RoleName: r.RoleName }))).PolicyNames ?? []) {
        const doc = (await iam.send(new iamSdk.GetRolePolicyCommand({ RoleName: r.RoleName, PolicyName: policy }))).PolicyDocument;
        put(`${name}.policy[${policy}]`, canonicalJson(doc));
      }
      for (const p of (await iam.send(new iamSdk.ListAttachedRolePoliciesCommand({ RoleName: r.RoleName }))).AttachedPolicies ?? []) {
        put(`${name}.attached[${p.PolicyName}]`, p.PolicyArn);
      }
    }
    for (const p of (await iam.send(new iamSdk.ListInstanceProfilesCommand({}))).InstanceProfiles ?? []) {
      count++;
      const name = `instance-profile[${norm(p.InstanceProfileName!)}]`;
      put(`${name}.roles`, (p.Roles ?? []).map((r) => norm(r.RoleName!)).join(" "));
      // GetInstanceProfile carries the tags (moto has no ListInstanceProfileTags).
      putTags(name, (await iam.send(new iamSdk.GetInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName }))).InstanceProfile?.Tags);
    }
    const subnetCidrs = async (ids: string[]) => {
      if (ids.length === 0) return "";
      const res = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids }));
      return (res.Subnets ?? []).map((s) => `subnet[${s.CidrBlock}]`).sort().join(" ");
    };
    for (const g of (await rds.send(new rdsSdk.DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups ?? []) {
      count++;
      const name = `db-subnet-group[${norm(g.DBSubnetGroupName!)}]`;
      put(`${name}.description`, g.DBSubnetGroupDescription);
      put(`${name}.subnets`, await subnetCidrs((g.Subnets ?? []).map((s) => s.SubnetIdentifier!)));
      putTags(name, (await rds.send(new rdsSdk.ListTagsForResourceCommand({ ResourceName: g.DBSubnetGroupArn }))).TagList);
    }
    const dbGroups = new Map<string, string>();
    for (const db of (await rds.send(new rdsSdk.DescribeDBInstancesCommand({}))).DBInstances ?? []) {
      count++;
      if (dbGroups.size === 0 && db.VpcSecurityGroups?.length) {
        const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: db.VpcSecurityGroups.map((g) => g.VpcSecurityGroupId!) }));
        for (const g of res.SecurityGroups ?? []) dbGroups.set(g.GroupId!, g.GroupName!);
      }
      const name = `db[${norm(db.DBInstanceIdentifier!)}]`;
      const fields: Record<string, string | number | boolean | undefined> = {
        engine: db.Engine,
        "engine-version": db.EngineVersion,
        class: db.DBInstanceClass,
        storage: db.AllocatedStorage,
        "storage-type": db.StorageType,
        encrypted: db.StorageEncrypted,
        public: db.PubliclyAccessible,
        "multi-az": db.MultiAZ,
        user: db.MasterUsername,
        database: db.DBName,
        port: db.Endpoint?.Port ?? db.DbInstancePort,
        "backup-retention": db.BackupRetentionPeriod,
        "copy-tags-to-snapshot": db.CopyTagsToSnapshot,
        "auto-minor-version-upgrade": db.AutoMinorVersionUpgrade,
        "deletion-protection": db.DeletionProtection,
        "subnet-group": db.DBSubnetGroup?.DBSubnetGroupName,
        "security-groups": (db.VpcSecurityGroups ?? []).map((g) => dbGroups.get(g.VpcSecurityGroupId!) ?? g.VpcSecurityGroupId).sort().join(" "),
      };
      for (const [k, v] of Object.entries(fields)) put(`${name}.${k}`, v);
      putTags(name, db.TagList);
    }
  } finally {
    ec2.destroy();
    iam.destroy();
    rds.destroy();
  }
  return { count, attrs };
}

/** Every attribute where the two stacks differ, as "path: pilot X, terraform Y". */
export function compareStacks(pilot: StackShape, terraform: StackShape): { resources: number; compared: number; differences: string[] } {
  const keys = [...new Set([...Object.keys(pilot.attrs), ...Object.keys(terraform.attrs)])].sort();
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  const differences = keys
    .filter((k) => JSON.stringify(pilot.attrs[k]) !== JSON.stringify(terraform.attrs[k]))
    .map((k) => `${k}: Pilot ${show(pilot.attrs[k])}, Terraform ${show(terraform.attrs[k])}`);
  if (pilot.count !== terraform.count) differences.unshift(`resources found: Pilot ${pilot.count}, Terraform ${terraform.count}`);
  return { resources: pilot.count, compared: keys.length, differences };
}
