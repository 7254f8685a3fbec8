/**
 * Issue 10, end to end through the real Waypoint 0.11.4: the secrets variable
 * of an ECS app, as `pilot up` passes it, reaches the ECS task definition the
 * aws-ecs plugin registers, in a remote job.
 *
 * The AWS side is moto. The plugin (aws-sdk-go v1, no endpoint override)
 * reaches it through an HTTPS proxy that answers from moto
 * (test/support/aws-tls-proxy.ts), so the real plugin runs its whole deploy:
 * subnets, role, log group, load balancer, task definition, service. The app
 * is made by the real CLI (`pilot new app --target ecs --with-db`, whose file
 * names the moto subnets and groups and whose execution role Pilot made),
 * its environment by `pilot env set`; the `-var` by the very function
 * `pilot up` calls (appSecrets), from what is then in SSM; the job's argv is
 * `pilot up`'s own (waypointUpArgs).
 *
 * Each job runs as `pilot up` runs it, `-local=false`: one container of the
 * real image holds a Waypoint server (its TLS verified against the test's
 * CA, no skip-verify), a runner agent, and `git daemon` serving a repository
 * holding the file (its build swapped for docker-ref, which needs no Docker);
 * the CLI queues the job with the variable in it (internal/client/job.go),
 * and the runner clones the repository and evaluates the variable against
 * the file's declaration (internal/runner/operation.go, EvaluateVariables).
 */
import { DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { appSecrets } from "../../../src/apps/ecs-secrets.js";
import { putAppParameters } from "../../../src/providers/aws/app-parameters.js";
import { undeclaredVariableHint, waypointUpArgs } from "../../../src/commands/up.js";
import type { StackState } from "../../../src/state/schema.js";
import { stackState, writeStack } from "../../support/app-stacks.js";
import { startAwsTlsProxy, type AwsTlsProxy } from "../../support/aws-tls-proxy.js";
import { requireDocker, uniqueSuffix } from "../../support/docker.js";
import { motoEnv } from "../../support/moto.js";
import { freePorts } from "../../support/ports.js";
import { runCli } from "../../support/run-cli.js";
import { tempHome } from "../../support/temp-home.js";
import { deployOnly } from "../../support/waypoint-files.js";
import { realWaypointImage } from "../../support/waypoint-image.js";

const REGION = "eu-west-1"; // stackState("aws")'s
const stack = `ev${uniqueSuffix()}`.slice(0, 20);
const folder = `/pilot/${stack}/shop/web/`;
const API_KEY = "sk-live-e2e-0123456789";
/** How HCL reports a problem at a place in the file. */
const DIAGNOSTIC = /waypoint\.hcl:\d+,\d+-\d+: /;

let image: string;
let t: ReturnType<typeof tempHome>;
let proxy: AwsTlsProxy;
let env: NodeJS.ProcessEnv;
let aws: { ec2: EC2Client; ecs: ECSClient; ssm: SSMClient };
let hcl: string;
let state: StackState;

beforeAll(async () => {
  requireDocker();
  image = realWaypointImage();
  const moto = inject("motoEndpoint");
  t = tempHome("pilot-e2e-ecs-var-");
  env = { ...motoEnv(moto), PILOT_HOME: t.home };
  const client = { region: REGION, endpoint: moto, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
  aws = { ec2: new EC2Client(client), ecs: new ECSClient(client), ssm: new SSMClient(client) };
  // The same certificate serves the container's Waypoint server, on 127.0.0.1.
  proxy = await startAwsTlsProxy(moto, join(t.home, "proxy-tls"), [REGION], ["127.0.0.1"]);

  // The stack's network as up-server leaves it, in moto: the file names these, and the plugin looks them up.
  const vpc = (await aws.ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }))).Vpc!.VpcId!;
  const subnet = async (cidr: string, zone: string) => (await aws.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet!.SubnetId!;
  const group = async (name: string) => (await aws.ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `${stack}-${name}`, Description: name }))).GroupId!;
  const ids = { a: await subnet("10.42.1.0/24", `${REGION}a`), b: await subnet("10.42.2.0/24", `${REGION}b`), apps: await group("apps"), lb: await group("lb") };
  const base = stackState("aws");
  const at = (key: string, id: string, out: Record<string, unknown>) => ({ ...base.resources[key]!, id, out });
  writeStack(t.home, stack, {
    ...base,
    resources: {
      ...base.resources,
      "subnet-public": at("subnet-public", ids.a, { subnetId: ids.a }),
      "subnet-public-b": at("subnet-public-b", ids.b, { subnetId: ids.b }),
      "sg-apps": at("sg-apps", ids.apps, { groupId: ids.apps }),
      "sg-lb": at("sg-lb", ids.lb, { groupId: ids.lb }),
    },
  });

  const dir = join(t.home, "src");
  mkdirSync(dir, { recursive: true });
  const made = await runCli(["new", "app", "--name", stack, "--dir", dir, "--target", "ecs", "--project", "shop", "--app", "web", "--port", "8080", "--with-db"], env);
  if (made.code !== 0) throw new Error(`new app failed: ${made.stderr}`);
  hcl = readFileSync(join(dir, "waypoint.hcl"), "utf8");
  state = JSON.parse(readFileSync(join(t.home, "stacks", stack, "state.json"), "utf8"));
  const set = await runCli(["env", "set", "shop/web", "API_KEY=-", "--name", stack], env, { input: API_KEY });
  if (set.code !== 0) throw new Error(`env set failed: ${set.stderr}`);
}, 600_000);

afterAll(async () => {
  await proxy?.close();
  for (const c of Object.values(aws ?? {})) c.destroy();
  t?.cleanup();
});

/**
 * A Waypoint server, a runner and a git repository holding the file, then `waypoint ARGS`
 * as the Pilot server's CLI runs it (token and address from the environment).
 */
const REMOTE_SCRIPT = [
  "export HOME=/tmp",
  // The app's repository, served on git:// for the runner (go-git) to clone.
  "mkdir -p /tmp/src /tmp/git && cp /w/waypoint.hcl /tmp/src/ && cd /tmp/src && git init -q -b main && git add waypoint.hcl",
  "git -c user.email=e2e@pilot.test -c user.name=e2e commit -qm app && git clone -q --bare /tmp/src /tmp/git/app.git || exit 9",
  'git daemon --reuseaddr --base-path=/tmp/git --export-all --listen=127.0.0.1 --port="$GIT_PORT" /tmp/git >/tmp/git.log 2>&1 &',
  'waypoint server run -accept-tos -db=/tmp/data.db -listen-grpc="127.0.0.1:$GRPC_PORT" -listen-http="127.0.0.1:$HTTP_PORT" -url-enabled=false -tls-cert-file=/w/server.pem -tls-key-file=/w/server-key.pem >/tmp/server.log 2>&1 &',
  'export WAYPOINT_SERVER_ADDR="127.0.0.1:$GRPC_PORT" WAYPOINT_SERVER_TLS=true WAYPOINT_SERVER_TLS_SKIP_VERIFY=false',
  'for i in $(seq 1 60); do waypoint server bootstrap -context-create= >/tmp/token 2>/dev/null && break; sleep 1; done',
  'WAYPOINT_SERVER_TOKEN=$(cat /tmp/token); export WAYPOINT_SERVER_TOKEN',
  // A runner started with a token is adopted at once (no default on-demand profile: it runs jobs itself).
  "waypoint runner agent >/tmp/runner.log 2>&1 &",
  "for i in $(seq 1 60); do waypoint runner list 2>/dev/null | grep -q remote && break; sleep 1; done",
  'waypoint project apply -data-source=git -git-url="git://127.0.0.1:$GIT_PORT/app.git" -git-ref=main shop >/tmp/project.log 2>&1 || { echo "::project-failed"; cat /tmp/project.log; }',
  'cd /tmp && waypoint "$@" </dev/null 2>&1; echo "::exit $?"',
].join("\n");

/**
 * `pilot up`'s job (`waypoint` + `args`) for a repository holding `text`, its build swapped for
 * docker-ref; the job's output. Asynchronous: the proxy answering the plugin runs in this process.
 */
async function remoteJob(name: string, text: string, args: string[]): Promise<string> {
  const dir = join(t.home, "work", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "waypoint.hcl"), deployOnly(text));
  // The container runs as the image's user: its copies are readable (a test key, in a throwaway folder).
  copyFileSync(proxy.caFile, join(dir, "ca.pem"));
  copyFileSync(proxy.certFile, join(dir, "server.pem"));
  copyFileSync(proxy.keyFile, join(dir, "server-key.pem"));
  chmodSync(join(dir, "server-key.pem"), 0o644);
  const [grpc, http, git] = await freePorts(3);
  const argv = [
    "run", "--rm", "--name", `pilot-ecs-job-${name}-${process.pid}`, "--network", "host", "-v", `${dir}:/w:ro`,
    "-e", `GRPC_PORT=${grpc}`, "-e", `HTTP_PORT=${http}`, "-e", `GIT_PORT=${git}`,
    // AWS is reached only through the proxy, which answers from moto; loopback (server, git) is never proxied.
    "-e", `HTTPS_PROXY=${proxy.url}`, "-e", "SSL_CERT_FILE=/w/ca.pem", "-e", "CHECKPOINT_DISABLE=1",
    "-e", "AWS_ACCESS_KEY_ID=testing", "-e", "AWS_SECRET_ACCESS_KEY=testing", "-e", `AWS_REGION=${REGION}`,
    "--entrypoint", "sh", image, "-c", REMOTE_SCRIPT, "sh", ...args,
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("docker", argv, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      // A run cut short: killing `docker run` leaves its container running.
      spawnSync("docker", ["rm", "-f", `pilot-ecs-job-${name}-${process.pid}`]);
      resolve(text);
    });
  });
  expect(out, out).toContain("::exit");
  expect(out, out).not.toContain("::project-failed");
  // The job ran on the runner agent, not in the CLI.
  expect(out, out).toContain("Performing this operation on a remote runner");
  return out;
}

const REF = { project: "shop", app: "web", key: "shop/web" };

/** The secrets of the task definition the plugin registered last for the app ("waypoint-<app>"), and its execution role. */
async function lastTaskDefinition() {
  const td = (await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "waypoint-web" }))).taskDefinition!;
  const secrets = Object.fromEntries((td.containerDefinitions![0]!.secrets ?? []).map((s) => [s.name!, s.valueFrom!]));
  return { revision: td.revision, role: td.executionRoleArn, secrets };
}

describe("an ECS app's secrets variable, through the real Waypoint's remote job and its aws-ecs plugin (moto)", () => {
  it("pilot up's -var reaches the task definition: every parameter of the app's folder, database and `pilot env set` alike, with Pilot's execution role", async () => {
    expect(state.apps!["shop/web"]!.secretsVariable).toBe("pilot_secrets_web");
    // What `pilot up shop/web` does before the job: writes the database's parameters, then lists the folder.
    const values = { DATABASE_URL: "postgres://u:p@db:5432/d", PGHOST: "db", PGPORT: "5432", PGUSER: "u", PGPASSWORD: "p-e2e-secret", PGDATABASE: "d" };
    const written = await putAppParameters(aws.ssm, { region: REGION, stack, stackId: state.lineage, project: "shop", app: "web", values });
    const { secrets, flag } = await appSecrets(aws.ssm, { region: REGION, stack, project: "shop", app: "web", variable: "pilot_secrets_web", written });
    expect(Object.keys(secrets)).toEqual(["API_KEY", "DATABASE_URL", "PGDATABASE", "PGHOST", "PGPASSWORD", "PGPORT", "PGUSER"]);
    for (const v of [API_KEY, "p-e2e-secret"]) expect(flag).not.toContain(v);

    const out = await remoteJob("with-var", hcl, waypointUpArgs(REF, flag));
    expect(out).toContain("» Cloning data from Git");
    expect(out).toContain("» Deploying web...");
    expect(out).toContain("Registered Task definition: waypoint-web");
    expect(out).not.toMatch(DIAGNOSTIC);
    const td = await lastTaskDefinition();
    expect(td.secrets).toEqual(secrets);
    expect(td.role).toMatch(/:role\/pilot-[a-z0-9-]+\.web$/);
    expect(td.role).toContain(`role/pilot-${stack}.web`);
    // Every name it hands ECS is a parameter that exists, in the folder the role may read.
    const found = await aws.ssm.send(new GetParametersCommand({ Names: Object.values(td.secrets) }));
    expect(found.InvalidParameters ?? []).toEqual([]);
    for (const name of Object.values(td.secrets)) expect(name.startsWith(folder)).toBe(true);
    expect(proxy.calls).toContain("AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition");
  });

  it("a job Pilot did not start (no -var) gets the file's default: the database's parameters only", async () => {
    const before = (await lastTaskDefinition()).revision!;
    const out = await remoteJob("default", hcl, waypointUpArgs(REF));
    expect(out).toContain("Registered Task definition: waypoint-web");
    const td = await lastTaskDefinition();
    expect(td.revision).toBeGreaterThan(before);
    // (The plugin walks a Go map: its order is not the file's.)
    expect(Object.keys(td.secrets).sort()).toEqual(["DATABASE_URL", "PGDATABASE", "PGHOST", "PGPASSWORD", "PGPORT", "PGUSER"]);
    for (const [k, v] of Object.entries(td.secrets)) expect(v).toBe(`${folder}${k}`);
  });

  it("a file that does not declare the variable (written before it existed) fails the job on the -var: why pilot up passes it only to apps whose record says so", async () => {
    // The earlier file's shape: no variable block, a literal secrets map.
    const literal = ["secrets = {", ...["DATABASE_URL", "PGPASSWORD"].map((k) => `  ${k} = "${folder}${k}"`), "}"].map((l) => `      ${l}`).join("\n");
    const start = hcl.indexOf('variable "pilot_secrets_web" {');
    const end = hcl.indexOf("}\n}\n", start) + 4;
    expect(start > 0 && end > start).toBe(true);
    const legacy = (hcl.slice(0, start) + hcl.slice(end)).replace("      secrets = var.pilot_secrets_web", literal);
    expect(legacy).not.toContain("pilot_secrets_web");
    const before = (await lastTaskDefinition()).revision!;
    const out = await remoteJob("legacy", legacy, waypointUpArgs(REF, '-var=pilot_secrets_web={"API_KEY" = "x"}'));
    expect(out.replace(/\s+/g, " ")).toContain('! waypoint.hcl:0,0-0: Undefined variable; A "pilot_secrets_web" variable value was set, but was not found in known variables.');
    expect(out).not.toContain("Registered Task definition");
    expect((await lastTaskDefinition()).revision).toBe(before);
    // Should such a job come back (a new file not yet pushed), pilot up says what to do.
    expect(undeclaredVariableHint(out.split("\n"), state.apps!["shop/web"]!)).toMatch(/commit and push that file/);
    // And the same file deploys without it, its literal map as it was.
    expect(await remoteJob("legacy-plain", legacy, waypointUpArgs(REF))).toContain("Registered Task definition: waypoint-web");
    expect(Object.keys((await lastTaskDefinition()).secrets).sort()).toEqual(["DATABASE_URL", "PGPASSWORD"]);
  });

  it("a value of the wrong shape is refused by the variable's type, before anything is deployed", async () => {
    const before = (await lastTaskDefinition()).revision!;
    const out = await remoteJob("bad-type", hcl, waypointUpArgs(REF, '-var=pilot_secrets_web={"API_KEY" = {"nested" = "x"}}'));
    expect(out.replace(/\s+/g, " ")).toMatch(/Invalid value for variable.*pilot_secrets_web/);
    expect((await lastTaskDefinition()).revision).toBe(before);
  });
});
