import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2, { type ParsedKey } from "ssh2";
import { afterEach, describe, expect, it } from "vitest";
import { dbIdentifier, finalSnapshotName } from "../../../../src/providers/aws/db-instance.js";
import { architectureOf } from "../../../../src/providers/aws/instance.js";
import { createAwsProvider, type AwsSettings } from "../../../../src/providers/aws/provider.js";
import { generatePassword } from "../../../../src/providers/password.js";
import { generateEd25519, isWellFormedEd25519 } from "../../../../src/providers/ssh-key.js";
import { ruleKeys, securityGroupKind } from "../../../../src/providers/aws/security-group.js";
import { serverPolicy } from "../../../../src/providers/aws/server-policy.js";
import type { StackState } from "../../../../src/state/schema.js";
import { StateStore } from "../../../../src/state/store.js";

const settings: AwsSettings = { region: "us-east-1", allowCidrs: ["203.0.113.4/32"], allowWorld: false, instanceType: "t3.small", dbInstanceClass: "db.t4g.micro" };
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(env: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), "pilot-aws-unit-"));
  dirs.push(home);
  const store = new StateStore(home, "demo");
  // Fake clients: nothing here may call AWS.
  const provider = createAwsProvider({ stack: "demo", stackDir: store.dir, env, emit: () => undefined }, { clients: {} as never });
  return { store, provider };
}

function stateWith(resources: StackState["resources"], secrets: Record<string, string> = {}): StackState {
  return { version: 1, lineage: "0d9e8f7a-1111-2222-3333-444455556666", serial: 1, provider: "aws", settings, resources, secrets, server: {} };
}

describe("prepare", () => {
  it("makes an OpenSSH ed25519 key (0600) and a password once", async () => {
    const { store, provider } = setup();
    store.init("aws", settings);
    await provider.prepare(settings, store);
    const key = join(store.dir, "id_ed25519");
    expect(readFileSync(key, "utf8")).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(readFileSync(`${key}.pub`, "utf8")).toMatch(/^ssh-ed25519 AAAA\S+ pilot-demo\n$/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const first = { key: readFileSync(key, "utf8"), pw: store.current!.secrets.dbPassword };
    expect(first.pw).toMatch(/^[A-Za-z0-9]{32}$/);

    unlinkSync(`${key}.pub`); // a lost .pub is re-derived from the private key, never a new pair
    await provider.prepare(settings, store);
    expect(readFileSync(key, "utf8")).toBe(first.key);
    const parsed = ssh2.utils.parseKey(first.key) as ParsedKey;
    expect(readFileSync(`${key}.pub`, "utf8").split(" ").slice(0, 2)).toEqual(["ssh-ed25519", parsed.getPublicSSH().toString("base64")]);
    expect(store.current!.secrets.dbPassword).toBe(first.pw);
  });

  it("generates distinct passwords", () => {
    expect(new Set(Array.from({ length: 20 }, () => generatePassword())).size).toBe(20);
  });
});

describe("graph", () => {
  it("has every node's dependencies in the graph, and the security posture in its specs", () => {
    const { provider } = setup();
    const nodes = provider.graph(settings, stateWith({}, { dbPassword: "secret-password-1234" }));
    const keys = new Set(nodes.map((n) => n.key));
    expect(keys.size).toBe(nodes.length);
    for (const n of nodes) for (const d of n.dependsOn) expect(keys.has(d), `${n.key} → ${d}`).toBe(true);
    const byKey = Object.fromEntries(nodes.map((n) => [n.key, n]));
    const sgServer = byKey["sg-server"]!.spec({ vpc: { vpcId: "vpc-1" } });
    expect(ruleKeys(sgServer.ingress)).toEqual(["tcp:22:cidr:203.0.113.4/32", "tcp:9701:cidr:203.0.113.4/32", "tcp:9702:cidr:203.0.113.4/32"]);
    const sgDb = byKey["sg-db"]!.spec({ vpc: { vpcId: "vpc-1" }, "sg-server": { groupId: "sg-s" }, "sg-apps": { groupId: "sg-a" } });
    expect(ruleKeys(sgDb.ingress)).toEqual(["tcp:5432:sg:sg-a", "tcp:5432:sg:sg-s"]);
    // ECS apps: their load balancers take HTTP from the allowed ranges only, the apps take anything from their load balancers only.
    expect(ruleKeys(byKey["sg-lb"]!.spec({ vpc: { vpcId: "vpc-1" } }).ingress)).toEqual(["tcp:80:cidr:203.0.113.4/32"]);
    expect(ruleKeys(byKey["sg-apps"]!.spec({ vpc: { vpcId: "vpc-1" }, "sg-lb": { groupId: "sg-l" } }).ingress)).toEqual(["tcp:0-65535:sg:sg-l"]);
    const routes = byKey["route-public"]!.spec({ vpc: { vpcId: "v" }, igw: { internetGatewayId: "igw" }, "subnet-public": { subnetId: "s1" }, "subnet-public-b": { subnetId: "s2" } });
    expect(routes.subnetIds).toEqual(["s1", "s2"]);
    const publicB = byKey["subnet-public-b"]!.spec({ vpc: { vpcId: "v" } });
    expect(publicB.zoneIndex).not.toBe(byKey["subnet-public"]!.spec({ vpc: { vpcId: "v" } }).zoneIndex);
    const db = byKey.db!.spec({ "db-subnet-group": { name: "g" }, "sg-db": { groupId: "sg-d" } });
    expect(JSON.stringify(db)).not.toContain("secret-password-1234");
    expect(db.password.reveal()).toBe("secret-password-1234");
    const a = byKey["subnet-private-a"]!.spec({ vpc: { vpcId: "v" } });
    const b = byKey["subnet-private-b"]!.spec({ vpc: { vpcId: "v" } });
    expect(a.zoneIndex).not.toBe(b.zoneIndex);
  });

  it("opens the apps' load balancers to anyone only with --public-apps", () => {
    const { provider } = setup();
    const lb = (publicApps: boolean) =>
      provider
        .graph({ ...settings, publicApps }, stateWith({}, {}))
        .find((n) => n.key === "sg-lb")!
        .spec({ vpc: { vpcId: "vpc-1" } });
    expect(ruleKeys(lb(false).ingress)).toEqual(["tcp:80:cidr:203.0.113.4/32"]);
    expect(ruleKeys(lb(true).ingress)).toEqual(["tcp:80:cidr:0.0.0.0/0"]);
    // The server's own ports stay on the allowed ranges either way.
    const server = provider.graph({ ...settings, publicApps: true }, stateWith({}, {})).find((n) => n.key === "sg-server")!;
    expect(ruleKeys(server.spec({ vpc: { vpcId: "vpc-1" } }).ingress).join()).not.toContain("0.0.0.0/0");
  });

  it("reports SG ingress drift as an in-place update", () => {
    const kind = securityGroupKind({ clients: {} as never, region: "us-east-1" });
    const spec = { vpcId: "v", name: "n", description: "d", ingress: [{ port: 22, cidrs: ["192.0.2.0/24"] }] };
    expect(kind.diff!(spec, { groupId: "sg", vpcId: "v", ingress: ["tcp:22:cidr:192.0.2.0/24"] })).toEqual({ result: "same" });
    expect(kind.diff!(spec, { groupId: "sg", vpcId: "v", ingress: ["tcp:22:cidr:203.0.113.4/32"] })).toEqual({
      result: "update",
      reason: "ingress rules differ (+1 -1)",
    });
  });
});

describe("access details", () => {
  const resources: StackState["resources"] = {
    eip: { type: "aws.ec2.elastic-ip", status: "created", token: "t", id: "eipalloc-1", out: { allocationId: "eipalloc-1", publicIp: "198.51.100.20" }, dependsOn: [] },
    db: { type: "aws.rds.instance", status: "created", token: "t", id: "pilot-demo-1", out: { identifier: "pilot-demo-1", endpoint: "db.internal", port: 5432 }, dependsOn: [] },
  };

  it("serverAccess uses the Elastic IP, or PILOT_SSH_TARGET for the SSH host and port", () => {
    const { provider, store } = setup();
    expect(provider.serverAccess(stateWith({}))).toBeUndefined();
    expect(provider.serverAccess(stateWith(resources))).toEqual({
      host: "198.51.100.20",
      port: 22,
      user: "ubuntu",
      privateKeyPath: join(store.dir, "id_ed25519"),
      publicAddress: "198.51.100.20",
    });
    const local = setup({ PILOT_SSH_TARGET: "127.0.0.1:2222" }).provider;
    expect(local.serverAccess(stateWith(resources))).toMatchObject({ host: "127.0.0.1", port: 2222, user: "ubuntu", publicAddress: "198.51.100.20" });
    const withUser = setup({ PILOT_SSH_TARGET: "tester@127.0.0.1:2200" }).provider;
    expect(withUser.serverAccess(stateWith(resources))).toMatchObject({ host: "127.0.0.1", port: 2200, user: "tester" });
  });

  it("databaseInfo gives the endpoint, the pilot user and the stored password", () => {
    const { provider } = setup();
    expect(provider.databaseInfo(stateWith(resources, { dbPassword: "pw" }))).toEqual({ host: "db.internal", port: 5432, user: "pilot", database: "pilot", passwordSecret: "dbPassword" });
  });
});

describe("names and helpers", () => {
  it("derives a stable, valid RDS identifier from the node token", () => {
    const id = dbIdentifier("pilot-My_Stack", "token-1");
    expect(id).toMatch(/^pilot-my-stack-[0-9a-f]{8}$/);
    expect(dbIdentifier("pilot-My_Stack", "token-1")).toBe(id);
    expect(dbIdentifier("pilot-My_Stack", "token-2")).not.toBe(id);
    expect(dbIdentifier(`pilot-${"x".repeat(80)}`, "t").length).toBeLessThanOrEqual(63);
  });

  it("names the final snapshot <identifier>-final-<yyyymmddhhmm>", () => {
    expect(finalSnapshotName("pilot-demo-ab12cd34", new Date(Date.UTC(2025, 11, 31, 23, 59, 30)))).toBe("pilot-demo-ab12cd34-final-202512312359");
  });

  it.each([
    ["t3.small", "x86_64"],
    ["t4g.small", "arm64"],
    ["c7gn.large", "arm64"],
    ["m6gd.xlarge", "arm64"],
    ["g4dn.xlarge", "x86_64"],
    ["m7i.large", "x86_64"],
    // The first Graviton generation has no "g" in its name.
    ["a1.large", "arm64"],
    ["a1.metal", "arm64"],
  ])("%s runs %s images", (type, arch) => {
    expect(architectureOf(type)).toBe(arch);
  });

  it("keeps the server policy free of wildcard actions and scoped to the region", () => {
    const doc = JSON.parse(serverPolicy({ region: "eu-west-1", stack: "s", stackId: "l", vpcId: "vpc-1" })) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    for (const s of doc.Statement) {
      for (const a of s.Action) expect(a).not.toMatch(/^\*$|:\*$/);
    }
    expect(JSON.stringify(doc)).not.toContain("us-east-1");
    expect(doc.Statement.find((s) => s.Action.includes("iam:PassRole"))).toMatchObject({ Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } });
  });
});

describe("the stack's SSH key", () => {
  // Seen from ssh2: a 31-byte key, its leading zero byte dropped; EC2 answers InvalidKeyPair.Format.
  const TRIMMED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH8k8I6n8v3x+1/yG0ytEu7uxNI8SXKkTkIqW6LgNGAo= pilot-x";
  const GOOD = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBMLJRAuOsA+SNF+HKQkax/9MsDmnWo22ists+qejN6U pilot-x"; // from ssh-keygen

  it("tells a well-formed ed25519 public key from a trimmed one", () => {
    expect(isWellFormedEd25519(GOOD)).toBe(true);
    expect(isWellFormedEd25519(TRIMMED)).toBe(false);
    expect(isWellFormedEd25519("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")).toBe(false);
  });

  it("throws a malformed pair away and makes another", () => {
    const pairs = [{ public: TRIMMED, private: "bad" }, { public: GOOD, private: "good" }];
    expect(generateEd25519("pilot-x", () => pairs.shift()!).private).toBe("good");
  });

  it("every generated key is well-formed (ssh2 trims about one in 256)", () => {
    for (let i = 0; i < 1000; i++) expect(isWellFormedEd25519(generateEd25519("pilot-x").public)).toBe(true);
  });
});
