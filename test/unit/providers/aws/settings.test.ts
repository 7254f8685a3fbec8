import { describe, expect, it, vi } from "vitest";
import { UsageError } from "../../../../src/errors.js";
import { normaliseCidr, resolveAwsSettings, type SettingsLookups } from "../../../../src/providers/aws/settings.js";

function lookups(over: Partial<SettingsLookups> = {}) {
  return {
    defaultRegion: vi.fn(async () => "eu-west-1" as string | undefined),
    detectPublicIp: vi.fn(async () => "198.51.100.7" as string | undefined),
    ...over,
  };
}

describe("normaliseCidr", () => {
  it.each([
    ["203.0.113.4/32", "203.0.113.4/32"],
    ["203.0.113.4", "203.0.113.4/32"],
    [" 10.1.2.3/8 ", "10.0.0.0/8"],
    ["192.0.2.77/26", "192.0.2.64/26"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["8.8.8.8/0", "0.0.0.0/0"],
    ["255.255.255.255/32", "255.255.255.255/32"],
  ])("%s → %s", (input, out) => {
    expect(normaliseCidr(input)).toBe(out);
  });

  it.each(["", "10.0.0.0/33", "10.0.0/24", "10.0.0.256/32", "010.0.0.1/32", "10.0.0.1/08", "10.0.0.1/", "10.0.0.1/24/1", "::1/128", "a.b.c.d/8", "10.0.0.1/-1"])(
    "refuses %j and names it",
    (input) => {
      let err: unknown;
      try {
        normaliseCidr(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain(`"${input}"`);
    },
  );
});

describe("resolveAwsSettings", () => {
  it("fills defaults: config-chain region, detected /32, t3.small, db.t4g.micro", async () => {
    const l = lookups();
    const s = await resolveAwsSettings({}, undefined, l);
    expect(s).toEqual({
      region: "eu-west-1",
      allowCidrs: ["198.51.100.7/32"],
      allowWorld: false,
      instanceType: "t3.small",
      dbInstanceClass: "db.t4g.micro",
    });
  });

  it("takes flags over stored settings, and stored settings over defaults", async () => {
    const stored = { region: "us-east-2", allowCidrs: ["192.0.2.0/24"], allowWorld: false, instanceType: "t3.medium", dbInstanceClass: "db.t4g.small" };
    const l = lookups();
    expect(await resolveAwsSettings({}, stored, l)).toEqual(stored);
    expect(l.detectPublicIp).not.toHaveBeenCalled();
    expect(l.defaultRegion).not.toHaveBeenCalled();
    const s = await resolveAwsSettings({ allowCidr: ["203.0.113.5", "203.0.113.5/32"], instanceType: "t3.large", ami: "ami-0123456789abcdef0" }, stored, l);
    expect(s).toMatchObject({ region: "us-east-2", allowCidrs: ["203.0.113.5/32"], instanceType: "t3.large", dbInstanceClass: "db.t4g.small", ami: "ami-0123456789abcdef0" });
  });

  it("never inherits skipFinalSnapshot from stored settings", async () => {
    const s = await resolveAwsSettings({ allowCidr: ["192.0.2.1"] }, { region: "us-east-1", skipFinalSnapshot: true }, lookups());
    expect(s.skipFinalSnapshot).toBeUndefined();
    expect((await resolveAwsSettings({ allowCidr: ["192.0.2.1"], skipFinalSnapshot: true }, undefined, lookups())).skipFinalSnapshot).toBe(true);
  });

  type Case = [name: string, flags: Record<string, unknown>, message: RegExp];
  it.each<Case>([
    ["bad CIDR", { allowCidr: ["10.0.0.0/24", "10.0.0.300/32"] }, /"10\.0\.0\.300\/32" is not an IPv4 CIDR/],
    ["world without --allow-world", { allowCidr: ["0.0.0.0/0"] }, /0\.0\.0\.0\/0 would open SSH and Waypoint to the whole internet/],
    ["bad region", { region: "us_east_1", allowCidr: ["10.0.0.0/24"] }, /--region "us_east_1"/],
    ["bad instance type", { instanceType: "small", allowCidr: ["10.0.0.0/24"] }, /--instance-type "small"/],
    ["bad DB class", { dbInstanceClass: "t4g.micro", allowCidr: ["10.0.0.0/24"] }, /--db-instance-class "t4g.micro"/],
    ["bad AMI", { ami: "ubuntu", allowCidr: ["10.0.0.0/24"] }, /--ami "ubuntu"/],
  ])("%s: UsageError before any look-up", async (_name, flags, message) => {
    const l = lookups();
    const p = resolveAwsSettings(flags as never, undefined, l);
    await expect(p).rejects.toBeInstanceOf(UsageError);
    await expect(p).rejects.toThrow(message);
    expect(l.detectPublicIp).not.toHaveBeenCalled();
    expect(l.defaultRegion).not.toHaveBeenCalled();
  });

  it("accepts 0.0.0.0/0 with --allow-world", async () => {
    const s = await resolveAwsSettings({ allowCidr: ["0.0.0.0/0"], allowWorld: true }, undefined, lookups());
    expect(s.allowCidrs).toEqual(["0.0.0.0/0"]);
    expect(s.allowWorld).toBe(true);
  });

  it("keeps --public-apps for later runs until it is turned off, and leaves it out of state when off", async () => {
    const stored = { region: "us-east-1", allowCidrs: ["192.0.2.0/24"], allowWorld: false, instanceType: "t3.small", dbInstanceClass: "db.t4g.micro" };
    expect((await resolveAwsSettings({}, stored, lookups())).publicApps).toBeUndefined();
    const opened = await resolveAwsSettings({ publicApps: true }, stored, lookups());
    expect(opened.publicApps).toBe(true);
    expect((await resolveAwsSettings({}, opened, lookups())).publicApps).toBe(true);
    expect((await resolveAwsSettings({ publicApps: false }, opened, lookups())).publicApps).toBeUndefined();
  });

  it("refuses a stored 0.0.0.0/0 when --allow-world is now false", async () => {
    await expect(resolveAwsSettings({ allowWorld: false }, { region: "us-east-1", allowCidrs: ["0.0.0.0/0"], allowWorld: true }, lookups())).rejects.toThrow(
      /whole internet/,
    );
  });

  it("asks for --region when the config chain has none", async () => {
    const p = resolveAwsSettings({ allowCidr: ["10.0.0.0/24"] }, undefined, lookups({ defaultRegion: async () => undefined }));
    await expect(p).rejects.toBeInstanceOf(UsageError);
    await expect(p).rejects.toMatchObject({ hint: expect.stringContaining("--region") });
  });

  it("asks for --allow-cidr when the public address cannot be detected", async () => {
    const p = resolveAwsSettings({}, undefined, lookups({ detectPublicIp: async () => undefined }));
    await expect(p).rejects.toBeInstanceOf(UsageError);
    await expect(p).rejects.toMatchObject({ hint: expect.stringContaining("--allow-cidr") });
  });

  it("refuses to move an existing stack to another region", async () => {
    await expect(resolveAwsSettings({ region: "eu-west-1" }, { region: "us-east-1", allowCidrs: ["10.0.0.0/24"] }, lookups())).rejects.toThrow(
      /lives in us-east-1/,
    );
  });
});

describe("defaultRegion", () => {
  it("prefers AWS_REGION, then AWS_DEFAULT_REGION (which SDK v3 alone ignores)", async () => {
    const { defaultRegion } = await import("../../../../src/providers/aws/clients.js");
    expect(await defaultRegion({ AWS_REGION: "eu-west-3", AWS_DEFAULT_REGION: "eu-north-1" })).toBe("eu-west-3");
    expect(await defaultRegion({ AWS_DEFAULT_REGION: "eu-north-1" })).toBe("eu-north-1");
  });
});
