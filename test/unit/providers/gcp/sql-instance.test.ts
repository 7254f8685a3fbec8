/**
 * The Cloud SQL instance's diff: what it changes in place (patch) and what
 * forces a new instance. A replace deletes the database and its data, so a
 * changed tier or a drifted posture must never be one.
 */
import { describe, expect, it } from "vitest";
import type { GcpKindEnv } from "../../../../src/providers/gcp/shared.js";
import { sqlInstanceKind, type SqlInstanceOut, type SqlInstanceSpec } from "../../../../src/providers/gcp/sql-instance.js";

// diff() is pure: it never reaches the clients, so an empty stand-in is enough.
const kind = sqlInstanceKind({ clients: { sql: {} }, project: "p", region: "europe-west1", zone: "europe-west1-b" } as unknown as GcpKindEnv, { skipFinalSnapshot: true });
const spec: SqlInstanceSpec = {
  namePrefix: "pilot-s",
  tier: "db-g1-small",
  databaseVersion: "POSTGRES_16",
  networkSelfLink: "https://www.googleapis.com/compute/v1/projects/p/global/networks/pilot-s-net",
  diskGb: 20,
};
const out: SqlInstanceOut = {
  name: "pilot-s-1234abcd",
  state: "RUNNABLE",
  tier: "db-g1-small",
  databaseVersion: "POSTGRES_16",
  network: "projects/p/global/networks/pilot-s-net",
  privateIp: "10.43.0.3",
  ipv4Enabled: false,
  sslMode: "ENCRYPTED_ONLY",
  backups: true,
};

describe("Cloud SQL instance diff", () => {
  it("the same posture and tier is the same, however the network is written", () => {
    expect(kind.diff!(spec, out)).toEqual({ result: "same" });
  });

  it("a changed tier (--db-instance-class) is patched in place, never replaced, and asked for (it restarts the instance)", () => {
    expect(kind.diff!({ ...spec, tier: "db-custom-2-7680" }, out)).toEqual({ result: "update", reason: "tier db-g1-small → db-custom-2-7680", disruptive: true });
  });

  it.each([
    [{ ipv4Enabled: true }, "a public IPv4 address was switched on"],
    [{ sslMode: "ALLOW_UNENCRYPTED_AND_ENCRYPTED" }, "TLS is not required (ALLOW_UNENCRYPTED_AND_ENCRYPTED)"],
    [{ backups: false }, "automated backups are off"],
  ])("drifted posture %j is put back in place", (drift, reason) => {
    expect(kind.diff!(spec, { ...out, ...drift })).toEqual({ result: "update", reason });
  });

  it("an instance still being created is waited for (update), not called the same", () => {
    expect(kind.diff!(spec, { ...out, state: "PENDING_CREATE" })).toMatchObject({ result: "update" });
  });

  it("only another private network forces a new instance", () => {
    const d = kind.diff!({ ...spec, networkSelfLink: "projects/p/global/networks/other" }, out);
    expect(d).toEqual({ result: "replace", reason: "the private network changed" });
  });
});
