/**
 * The pure rules of Pilot's Cloud Run release (src/providers/gcp/cloud-run-spec.ts):
 * who may call a service, the secrets' names, the revision's env, the traffic.
 */
import { describe, expect, it } from "vitest";
import {
  allTo,
  appSecretId,
  appSecretPrefix,
  isAllTo,
  releaseRevisionName,
  withExactRole,
  withInvokerAccess,
  withSecretEnv,
  type PolicyLike,
} from "../../../../src/providers/gcp/cloud-run-spec.js";

const INVOKER = "roles/run.invoker";
const condition = { title: "office hours", expression: "request.time.getHours('Europe/Paris') < 18" };

describe("withInvokerAccess: who may call the service", () => {
  it("private: removes allUsers and allAuthenticatedUsers from every binding, keeps every other member, role, condition and the etag", () => {
    const policy: PolicyLike = {
      version: 3,
      etag: "BwY=",
      bindings: [
        { role: INVOKER, members: ["allUsers", "serviceAccount:caller@p.iam.gserviceaccount.com", "allAuthenticatedUsers"] },
        { role: "roles/run.viewer", members: ["allAuthenticatedUsers"] },
        { role: INVOKER, members: ["group:ops@example.com"], condition },
        { role: "roles/run.developer", members: ["user:dev@example.com"] },
      ],
    };
    const r = withInvokerAccess(policy, false);
    expect(r.policy).toEqual({
      version: 3,
      etag: "BwY=",
      bindings: [
        { role: INVOKER, members: ["serviceAccount:caller@p.iam.gserviceaccount.com"] },
        { role: INVOKER, members: ["group:ops@example.com"], condition },
        { role: "roles/run.developer", members: ["user:dev@example.com"] },
      ],
    });
    expect(r.removed).toEqual([`allUsers (${INVOKER})`, `allAuthenticatedUsers (${INVOKER})`, "allAuthenticatedUsers (roles/run.viewer)"]);
    expect(r.added).toEqual([]);
    // The input is not changed.
    expect(policy.bindings![0]!.members).toContain("allUsers");
  });

  it("private: what Waypoint's releaser leaves (allUsers alone) becomes an empty policy; nothing to remove is no change", () => {
    expect(withInvokerAccess({ etag: "e", bindings: [{ role: INVOKER, members: ["allUsers"] }] }, false)).toEqual({ policy: { etag: "e", bindings: [] }, added: [], removed: [`allUsers (${INVOKER})`] });
    expect(withInvokerAccess({ etag: "e" }, false)).toEqual({ policy: { etag: "e", bindings: [] }, added: [], removed: [] });
    const others = { etag: "e", bindings: [{ role: INVOKER, members: ["user:a@example.com"] }] };
    expect(withInvokerAccess(others, false)).toEqual({ policy: others, added: [], removed: [] });
  });

  it("public: adds allUsers to the unconditional invoker binding (made if missing), keeping its members and every other binding", () => {
    const r = withInvokerAccess({ etag: "e", bindings: [{ role: INVOKER, members: ["user:a@example.com"] }, { role: INVOKER, members: ["group:g@example.com"], condition }] }, true);
    expect(r.policy.bindings).toEqual([{ role: INVOKER, members: ["user:a@example.com", "allUsers"] }, { role: INVOKER, members: ["group:g@example.com"], condition }]);
    expect(r.added).toEqual([`allUsers (${INVOKER})`]);
    const fresh = withInvokerAccess({ etag: "e", bindings: [{ role: "roles/run.viewer", members: ["user:v@example.com"] }] }, true);
    expect(fresh.policy.bindings).toEqual([{ role: "roles/run.viewer", members: ["user:v@example.com"] }, { role: INVOKER, members: ["allUsers"] }]);
    // Already public: no change, and allAuthenticatedUsers (someone's choice) stays.
    const already = { etag: "e", bindings: [{ role: INVOKER, members: ["allAuthenticatedUsers", "allUsers"] }] };
    expect(withInvokerAccess(already, true)).toEqual({ policy: already, added: [], removed: [] });
  });
});

describe("withExactRole: the readers of Pilot's own secrets", () => {
  it("grants the role to exactly the given members, leaving other roles and conditional bindings alone", () => {
    const r = withExactRole(
      { etag: "e", bindings: [{ role: "roles/secretmanager.secretAccessor", members: ["serviceAccount:old@p.iam.gserviceaccount.com"] }, { role: "roles/secretmanager.viewer", members: ["user:a@example.com"] }] },
      "roles/secretmanager.secretAccessor",
      ["serviceAccount:new@p.iam.gserviceaccount.com"],
    );
    expect(r.policy.bindings).toEqual([{ role: "roles/secretmanager.viewer", members: ["user:a@example.com"] }, { role: "roles/secretmanager.secretAccessor", members: ["serviceAccount:new@p.iam.gserviceaccount.com"] }]);
    expect(r.added).toEqual(["serviceAccount:new@p.iam.gserviceaccount.com"]);
    expect(r.removed).toEqual(["serviceAccount:old@p.iam.gserviceaccount.com"]);
    expect(withExactRole(r.policy, "roles/secretmanager.secretAccessor", ["serviceAccount:new@p.iam.gserviceaccount.com"])).toMatchObject({ added: [], removed: [] });
  });
});

describe("secret names", () => {
  it("pilot-<stack>_<project>_<app>_<VARIABLE>: no app's prefix is another app's, however their names are hyphenated", () => {
    expect(appSecretId("prod", "shop", "web", "DATABASE_URL")).toBe("pilot-prod_shop_web_DATABASE_URL");
    expect(appSecretPrefix("prod")).toBe("pilot-prod_");
    const a = appSecretPrefix("prod", "a-b", "c");
    const b = appSecretPrefix("prod", "a", "b-c");
    expect(a).not.toBe(b);
    expect(appSecretId("prod", "a", "b-c", "X").startsWith(a)).toBe(false);
    expect(appSecretId("prod-2", "shop", "web", "X").startsWith(appSecretPrefix("prod"))).toBe(false);
  });

  it("refuses a variable whose secret id would pass Secret Manager's 255 characters", () => {
    expect(() => appSecretId("s".repeat(20), "p".repeat(30), "a".repeat(30), "K".repeat(200))).toThrow(/not a valid one.*255 at most/);
  });
});

describe("withSecretEnv: the revision's env", () => {
  const refs = [
    { variable: "PGPASSWORD", secretId: "pilot-s_shop_web_PGPASSWORD", version: "3" },
    { variable: "DATABASE_URL", secretId: "pilot-s_shop_web_DATABASE_URL", version: "1" },
  ];
  it("keeps Waypoint's own variables, replaces a plain entry a variable overrides, and adds the references in name order, pinned", () => {
    const env = [
      { name: "WAYPOINT_SERVER_ADDR", value: "waypoint-server:9701" },
      { name: "PGPASSWORD", value: "from static_environment" },
    ];
    expect(withSecretEnv(env, refs, "pilot-s_shop_web_")).toEqual([
      { name: "WAYPOINT_SERVER_ADDR", value: "waypoint-server:9701" },
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web_DATABASE_URL", key: "1" } } },
      { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web_PGPASSWORD", key: "3" } } },
    ]);
  });

  it("drops the app's references of an earlier release (an unset variable goes), never another's", () => {
    const env = [
      { name: "OLD", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web_OLD", key: "2" } } },
      { name: "THEIRS", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web2_THEIRS", key: "1" } } },
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web_DATABASE_URL", key: "0" } } },
    ];
    expect(withSecretEnv(env, refs.slice(1), "pilot-s_shop_web_")).toEqual([
      { name: "THEIRS", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web2_THEIRS", key: "1" } } },
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "pilot-s_shop_web_DATABASE_URL", key: "1" } } },
    ]);
    expect(withSecretEnv(undefined, [], "pilot-s_shop_web_")).toEqual([]);
  });
});

describe("traffic", () => {
  it("all on one named revision, and nothing else counts as that (not even latestRevision)", () => {
    expect(allTo("web-pilot-abc")).toEqual([{ revisionName: "web-pilot-abc", percent: 100 }]);
    expect(isAllTo(allTo("web-pilot-abc"), "web-pilot-abc")).toBe(true);
    expect(isAllTo(allTo("web-00002-abc"), "web-pilot-abc")).toBe(false);
    expect(isAllTo([{ latestRevision: true, percent: 100 }], "web-pilot-abc")).toBe(false);
    expect(isAllTo([{ revisionName: "web-pilot-abc", percent: 90 }, { revisionName: "web-00001-abc", percent: 10 }], "web-pilot-abc")).toBe(false);
    expect(isAllTo([{ revisionName: "web-pilot-abc", percent: 100, tag: "blue" }], "web-pilot-abc")).toBe(false);
    expect(isAllTo(undefined, "web-pilot-abc")).toBe(false);
  });

  it("a release's revision is named after the service, as Cloud Run requires, and fits a DNS label", () => {
    expect(releaseRevisionName("web", 1_700_000_000_000)).toBe("web-pilot-loyw3v28");
    const longest = releaseRevisionName("a".repeat(30), 8_000_000_000_000);
    expect(longest.startsWith(`${"a".repeat(30)}-`)).toBe(true);
    expect(longest).toMatch(/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});
