/**
 * The server's host key from EC2's console output (issue 8, point 5), as
 * aws-sdk-client-mock sequences: moto's console output is canned, so only a
 * mock can show the console without, then with, cloud-init's key blocks.
 */
import { DescribeInstancesCommand, EC2Client, GetConsoleOutputCommand } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { RDSClient } from "@aws-sdk/client-rds";
import { STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprintOfLine } from "../../../../src/bootstrap/ssh/host-key.js";
import type { AwsClients } from "../../../../src/providers/aws/clients.js";
import { CONSOLE_GRACE_MS, consoleHostKey, hostKeyFromConsole } from "../../../../src/providers/aws/host-keys.js";
import { createAwsProvider } from "../../../../src/providers/aws/provider.js";
import { kindEnv } from "./kind-env.js";

const ec2Mock = mockClient(EC2Client);
afterEach(() => ec2Mock.reset());

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=";

/** What cloud-init on Ubuntu prints at the end of its first boot (with the "ec2:" prefix and kernel timestamps). */
const BOOT = [
  "[    0.000000] Linux version 6.8.0-1012-aws",
  "[   12.345678] cloud-init[812]: Cloud-init v. 24.1 running 'modules:final'",
  "ec2: #############################################################",
  "ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----",
  `ec2: 256 ${fingerprintOfLine(ECDSA)} root@ip-10-42-0-5 (ECDSA)`,
  `ec2: 256 ${fingerprintOfLine(ED25519)} root@ip-10-42-0-5 (ED25519)`,
  "ec2: -----END SSH HOST KEY FINGERPRINTS-----",
  "ec2: #############################################################",
  "-----BEGIN SSH HOST KEY KEYS-----",
  `${ECDSA} root@ip-10-42-0-5`,
  `${ED25519} root@ip-10-42-0-5`,
  "-----END SSH HOST KEY KEYS-----",
].join("\r\n");

describe("hostKeyFromConsole", () => {
  it("takes the ed25519 key line from cloud-init's key block, comment dropped", () => {
    expect(hostKeyFromConsole(BOOT)).toBe(ED25519);
  });
  it("falls back to the ed25519 fingerprint when only the fingerprint block was printed", () => {
    const onlyFingerprints = BOOT.split("\r\n").slice(0, 8).join("\n");
    expect(hostKeyFromConsole(onlyFingerprints)).toBe(fingerprintOfLine(ED25519));
  });
  it("reads the fingerprint block as Ubuntu's console shows it, behind logger's syslog priority and date", () => {
    // cloud-init's write-ssh-key-fingerprints pipes the block through `logger --stderr -t ec2`.
    const syslog = BOOT.split("\r\n")
      .slice(0, 8)
      .map((l) => (l.startsWith("ec2: ") ? `<14>Feb  5 10:07:40 ${l}` : l))
      .join("\n");
    expect(hostKeyFromConsole(syslog)).toBe(fingerprintOfLine(ED25519));
  });
  it("finds nothing in a console that has not got that far, or in an unfinished block", () => {
    expect(hostKeyFromConsole(BOOT.split("\r\n").slice(0, 2).join("\n"))).toBeUndefined();
    expect(hostKeyFromConsole(BOOT.split("\r\n").slice(0, 5).join("\n"))).toBeUndefined();
  });
});

describe("consoleHostKey", () => {
  const region = "us-east-1";
  const env = (start: number) => kindEnv({ region, start, step: 10_000 });
  const launchedAt = Date.parse("2025-06-01T12:00:00Z");
  const b64 = (s: string) => Buffer.from(s).toString("base64");

  it("polls the console until cloud-init has printed the keys, then returns the ed25519 key", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: "i-1", LaunchTime: new Date(launchedAt) }] }] });
    ec2Mock
      .on(GetConsoleOutputCommand)
      .resolvesOnce({}) // EC2 has no output yet
      .resolvesOnce({ Output: b64(BOOT.split("\r\n").slice(0, 2).join("\n")) })
      .resolves({ Output: b64(BOOT) });
    const progress: string[] = [];
    const key = await consoleHostKey(env(launchedAt + 30_000), "i-1", (m) => progress.push(m));
    expect(key).toBe(ED25519);
    expect(ec2Mock.commandCalls(GetConsoleOutputCommand)).toHaveLength(3);
    expect(progress[0]).toMatch(/waiting for cloud-init to print them/);
    expect(progress.at(-1)).toMatch(/^published/);
  });

  it("an instance past the grace period whose console has no keys gives undefined after one look (first-contact fallback)", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: "i-1", LaunchTime: new Date(launchedAt) }] }] });
    ec2Mock.on(GetConsoleOutputCommand).resolves({ Output: b64("no cloud-init here") });
    expect(await consoleHostKey(env(launchedAt + CONSOLE_GRACE_MS), "i-1", () => undefined)).toBeUndefined();
    expect(ec2Mock.commandCalls(GetConsoleOutputCommand)).toHaveLength(1);
  });

  it("a young instance whose console never shows keys is given up on at the grace period, not waited on forever", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: "i-1", LaunchTime: new Date(launchedAt) }] }] });
    ec2Mock.on(GetConsoleOutputCommand).resolves({});
    expect(await consoleHostKey(env(launchedAt), "i-1", () => undefined)).toBeUndefined();
    // Ten seconds of clock per look: about as many looks as the grace period holds.
    expect(ec2Mock.commandCalls(GetConsoleOutputCommand).length).toBeLessThanOrEqual(CONSOLE_GRACE_MS / 10_000 + 1);
  });
});

describe("the AWS provider's publishedHostKey", () => {
  const region = "us-east-1";
  const clients: AwsClients = { ec2: new EC2Client({ region }), iam: new IAMClient({ region }), rds: new RDSClient({ region }), sts: new STSClient({ region }) };
  const state = (server?: { status: "created" | "creating"; id?: string }) =>
    ({ settings: { region }, resources: server ? { server: { type: "aws.ec2.instance", token: "t", dependsOn: [], ...server } } : {} }) as never;
  const provider = (env: NodeJS.ProcessEnv = {}) => createAwsProvider({ stack: "s", stackDir: "/nonexistent", env, emit: () => undefined }, { clients, pollScale: 0 });

  it("reads the recorded server's console", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: "i-9", LaunchTime: new Date() }] }] });
    ec2Mock.on(GetConsoleOutputCommand).resolves({ Output: Buffer.from(BOOT).toString("base64") });
    expect(await provider().publishedHostKey!(state({ status: "created", id: "i-9" }), () => undefined)).toBe(ED25519);
    expect(ec2Mock.commandCalls(GetConsoleOutputCommand)[0]!.args[0].input).toEqual({ InstanceId: "i-9" });
  });

  it("has nothing to say before the server exists, or when SSH goes to a stand-in (PILOT_SSH_TARGET), and asks AWS nothing", async () => {
    expect(await provider().publishedHostKey!(state(), () => undefined)).toBeUndefined();
    expect(await provider().publishedHostKey!(state({ status: "creating" }), () => undefined)).toBeUndefined();
    expect(await provider({ PILOT_SSH_TARGET: "me@127.0.0.1:2222" }).publishedHostKey!(state({ status: "created", id: "i-9" }), () => undefined)).toBeUndefined();
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("reads the console for a stand-in too when a test serves the stand-in's keys there (PILOT_TEST_CONSOLE_HOST_KEYS=1)", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: "i-9", LaunchTime: new Date() }] }] });
    ec2Mock.on(GetConsoleOutputCommand).resolves({ Output: Buffer.from(BOOT).toString("base64") });
    const standIn = { PILOT_SSH_TARGET: "me@127.0.0.1:2222", PILOT_TEST_CONSOLE_HOST_KEYS: "1" };
    expect(await provider(standIn).publishedHostKey!(state({ status: "created", id: "i-9" }), () => undefined)).toBe(ED25519);
    expect(ec2Mock.commandCalls(GetConsoleOutputCommand)).toHaveLength(1);
    // Any other value keeps the stand-in rule.
    ec2Mock.resetHistory();
    expect(await provider({ ...standIn, PILOT_TEST_CONSOLE_HOST_KEYS: "yes" }).publishedHostKey!(state({ status: "created", id: "i-9" }), () => undefined)).toBeUndefined();
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});
