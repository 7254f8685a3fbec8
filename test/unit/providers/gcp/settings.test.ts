import { describe, expect, it } from "vitest";
import { resolveGcpSettings, type GcpSettingsLookups } from "../../../../src/providers/gcp/settings.js";
import { allLoopback, gcpEndpoints } from "../../../../src/providers/gcp/endpoints.js";
import { setupArgs } from "../../../../src/cli.js";

/** Look-ups that fail the test if a pure check should have stopped first. */
const offline = (project?: string, ip = "198.51.100.7"): GcpSettingsLookups & { calls: string[] } => {
  const calls: string[] = [];
  return {
    calls,
    adcProject: async () => (calls.push("adc"), project),
    detectPublicIp: async () => (calls.push("ip"), ip),
  };
};

describe("resolveGcpSettings", () => {
  it("takes flags, defaults the zone to <region>-b and the operator's /32, and stores no transient flags", async () => {
    const l = offline();
    const s = await resolveGcpSettings({ project: "my-proj-1", region: "europe-west1" }, undefined, {}, l);
    expect(s).toEqual({
      project: "my-proj-1",
      region: "europe-west1",
      zone: "europe-west1-b",
      allowCidrs: ["198.51.100.7/32"],
      allowWorld: false,
      machineType: "e2-small",
      dbTier: "db-g1-small",
    });
    expect(l.calls).toEqual(["ip"]); // the project came from the flag: no ADC look-up
  });

  it("finds the project in GOOGLE_CLOUD_PROJECT, then CLOUDSDK_CORE_PROJECT, then Application Default Credentials", async () => {
    const flags = { region: "us-east1", allowCidr: ["203.0.113.0/24"] };
    expect((await resolveGcpSettings(flags, undefined, { GOOGLE_CLOUD_PROJECT: "from-env-1", CLOUDSDK_CORE_PROJECT: "from-sdk-1" }, offline("from-adc-1"))).project).toBe("from-env-1");
    expect((await resolveGcpSettings(flags, undefined, { CLOUDSDK_CORE_PROJECT: "from-sdk-1" }, offline("from-adc-1"))).project).toBe("from-sdk-1");
    expect((await resolveGcpSettings(flags, undefined, {}, offline("from-adc-1"))).project).toBe("from-adc-1");
    await expect(resolveGcpSettings(flags, undefined, {}, offline(undefined))).rejects.toThrow(/No GCP project is configured/);
  });

  it("refuses bad input before any look-up", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ project: "X", region: "europe-west1" }, /--project "X" is not valid/],
      [{ project: "my-proj-1", region: "nowhere" }, /--region "nowhere" is not valid/],
      [{ project: "my-proj-1", region: "europe-west1", zone: "us-east1-b" }, /not in region europe-west1/],
      [{ project: "my-proj-1", region: "europe-west1", allowCidr: ["0.0.0.0/0"] }, /whole internet/],
      [{ project: "my-proj-1", region: "europe-west1", allowCidr: ["10.0.0.300/8"] }, /not an IPv4 CIDR/],
      [{ project: "my-proj-1", region: "europe-west1", instanceType: "t3.small" }, /--instance-type "t3.small" is not valid/],
      [{ project: "my-proj-1", region: "europe-west1", dbInstanceClass: "db.t4g.micro" }, /--db-instance-class "db.t4g.micro" is not valid/],
      [{ project: "my-proj-1" }, /No GCP region is configured/],
    ];
    for (const [flags, error] of cases) {
      const l = offline("adc-project");
      await expect(resolveGcpSettings(flags, undefined, {}, l), JSON.stringify(flags)).rejects.toThrow(error);
      expect(l.calls, JSON.stringify(flags)).toEqual([]);
    }
  });

  it("keeps a stack where it was made: another project, region or zone is refused", async () => {
    const stored = { project: "my-proj-1", region: "europe-west1", zone: "europe-west1-c", allowCidrs: ["203.0.113.9/32"], allowWorld: false, machineType: "e2-small", dbTier: "db-g1-small" };
    await expect(resolveGcpSettings({ project: "other-proj-1" }, stored, {}, offline())).rejects.toThrow(/lives in project my-proj-1/);
    await expect(resolveGcpSettings({ region: "us-east1" }, stored, {}, offline())).rejects.toThrow(/lives in region europe-west1/);
    await expect(resolveGcpSettings({ zone: "europe-west1-d" }, stored, {}, offline())).rejects.toThrow(/lives in zone europe-west1-c/);
    const again = await resolveGcpSettings({}, stored, {}, offline());
    expect(again).toEqual(stored);
  });

  it("--enable-apis is this run's only, and never on a dry run", async () => {
    const base = { project: "my-proj-1", region: "europe-west1", allowCidr: ["203.0.113.9/32"] };
    expect((await resolveGcpSettings({ ...base, enableApis: true }, undefined, {}, offline())).enableApis).toBe(true);
    expect((await resolveGcpSettings({ ...base, enableApis: true, dryRun: true }, undefined, {}, offline())).enableApis).toBeUndefined();
  });
});

describe("GCP endpoints", () => {
  it("PILOT_GCP_ENDPOINT serves every API; a per-API gcloud override wins and may carry its version path", () => {
    const e = gcpEndpoints({ PILOT_GCP_ENDPOINT: "http://127.0.0.1:8089", CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: "http://127.0.0.1:9000/compute/v1/" });
    expect(e.compute).toBe("http://127.0.0.1:9000/");
    expect(e.sqladmin).toBe("http://127.0.0.1:8089/");
    expect(allLoopback(e)).toBe(true);
  });

  it("uses credentials unless every API is on loopback, and refuses plain http elsewhere", () => {
    expect(allLoopback(gcpEndpoints({}))).toBe(false);
    expect(allLoopback(gcpEndpoints({ CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN: "http://localhost:1/" }))).toBe(false);
    expect(() => gcpEndpoints({ PILOT_GCP_ENDPOINT: "http://203.0.113.5:80" })).toThrow(/must be an https:\/\/ URL/);
    expect(gcpEndpoints({ PILOT_GCP_ENDPOINT: "https://proxy.example.com/x/" }).iam).toBe("https://proxy.example.com/");
  });
});

describe("pilot setup (the earlier Pilot's forms)", () => {
  it("reads `setup gcp` and `setup --gcp` as --provider gcp, and leaves a flag's value alone", () => {
    expect(setupArgs(["gcp", "--region", "europe-west1"])).toEqual(["--provider", "gcp", "--region", "europe-west1"]);
    expect(setupArgs(["--region", "europe-west1", "--aws"])).toEqual(["--region", "europe-west1", "--provider", "aws"]);
    expect(setupArgs(["--name", "gcp", "--provider", "local"])).toEqual(["--name", "gcp", "--provider", "local"]);
  });
});
