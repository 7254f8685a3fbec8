import { describe, expect, it } from "vitest";
import { googleError, isAlreadyExists, isBusy, isNotFound, isOperationInProgress, disabledService, GcpOperationError } from "../../../../src/providers/gcp/errors.js";
import { preferredHostKey } from "../../../../src/providers/gcp/host-keys.js";
import { SERVER_ROLES, withRoles } from "../../../../src/providers/gcp/project-roles.js";
import { noteIsOurs, ownershipNote, parseOwnershipNote, requestIdOf, stackName } from "../../../../src/providers/gcp/shared.js";
import { connectorName } from "../../../../src/providers/gcp/vpc-connector.js";
import { serviceAccountId } from "../../../../src/providers/gcp/service-account.js";
import { PilotError } from "../../../../src/errors.js";

const tags = { stack: "staging-eu", stackId: "0f1e2d3c-4b5a-4968-8776-655443322110", key: "network" };

/** A gaxios-shaped error as googleapis throws it. */
function gaxios(status: number, body: Record<string, unknown>) {
  return Object.assign(new Error(String(body.message)), { status, response: { status, data: { error: { code: status, ...body } } } });
}

describe("GCP names, notes and request ids", () => {
  it("stays within Google's limits for the longest stack name", () => {
    const longest = "a".repeat(20);
    expect(stackName({ stack: longest, stackId: tags.stackId }, "allow-server").length).toBeLessThanOrEqual(63);
    expect(connectorName(longest, tags.stackId)).toMatch(/^[a-z][-a-z0-9]{0,23}[a-z0-9]$/);
    expect(serviceAccountId(longest, tags.stackId)).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
  });

  it("derives a stable UUID requestId from the node's token", () => {
    const a = requestIdOf("pilot-network-0011223344556677");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIdOf("pilot-network-0011223344556677")).toBe(a);
    expect(requestIdOf("pilot-network-0011223344556678")).not.toBe(a);
  });

  it("an ownership note names the lineage; another lineage's is not ours", () => {
    const note = ownershipNote("Pilot network", tags);
    expect(parseOwnershipNote(note)).toEqual({ "pilot-stack": tags.stack, "pilot-stack-id": tags.stackId, "pilot-key": "network" });
    expect(noteIsOurs(note, tags)).toBe(true);
    expect(noteIsOurs(note, { ...tags, stackId: "ffffffff-4b5a-4968-8776-655443322110" })).toBe(false);
    expect(noteIsOurs("someone's network", tags)).toBe(false);
  });
});

describe("Google's errors", () => {
  it("tells not-found, already-exists, busy, disabled and in-progress apart, also through Pilot's wrappers", () => {
    const nf = gaxios(404, { status: "NOT_FOUND", errors: [{ reason: "notFound" }] });
    expect(isNotFound(nf)).toBe(true);
    expect(isNotFound(new PilotError("read x", { cause: nf }))).toBe(true);
    expect(isAlreadyExists(gaxios(409, { status: "ALREADY_EXISTS", errors: [{ reason: "alreadyExists" }] }))).toBe(true);
    expect(isAlreadyExists(gaxios(409, { status: "ABORTED", message: "etag mismatch" }))).toBe(false);
    expect(isBusy(gaxios(400, { errors: [{ reason: "resourceInUseByAnotherResource" }], message: "in use" }))).toBe(true);
    expect(isBusy(new GcpOperationError("delete failed", ["RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"]))).toBe(true);
    expect(isBusy(gaxios(400, { status: "INVALID_ARGUMENT", message: "bad" }))).toBe(false);
    const disabled = gaxios(403, {
      status: "PERMISSION_DENIED",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SERVICE_DISABLED", metadata: { service: "sqladmin.googleapis.com" } }],
    });
    expect(disabledService(disabled)).toBe("sqladmin.googleapis.com");
    expect(isOperationInProgress(gaxios(409, { message: "Operation failed because another operation was already in progress." }))).toBe(true);
    expect(googleError(new Error("plain"))).toBeUndefined();
  });
});

describe("project roles", () => {
  it("grants and revokes one member's roles and leaves everyone else's bindings alone", () => {
    const policy = {
      etag: "BwX",
      bindings: [
        { role: "roles/owner", members: ["user:owner@example.com"] },
        { role: "roles/run.developer", members: ["user:dev@example.com"] },
        { role: "roles/run.developer", members: ["serviceAccount:sa@p.iam.gserviceaccount.com"], condition: { title: "t", expression: "true" } },
      ],
    };
    const member = "serviceAccount:sa@p.iam.gserviceaccount.com";
    const granted = withRoles(policy, member, SERVER_ROLES);
    for (const role of SERVER_ROLES) expect(granted.bindings!.some((b) => !b.condition && b.role === role && b.members!.includes(member)), role).toBe(true);
    expect(granted.bindings!.find((b) => b.role === "roles/run.developer" && !b.condition)!.members).toEqual(["user:dev@example.com", member]);
    expect(granted.etag).toBe("BwX");
    const revoked = withRoles(granted, member, []);
    expect(revoked.bindings).toEqual(policy.bindings); // the conditional binding is not Pilot's to touch
  });
});

describe("published host keys", () => {
  it("prefers ed25519, then ECDSA, then RSA", () => {
    expect(preferredHostKey(["ssh-rsa AAAAr", "ecdsa-sha2-nistp256 AAAAe", "ssh-ed25519 AAAAd"])).toBe("ssh-ed25519 AAAAd");
    expect(preferredHostKey(["ssh-rsa AAAAr", "ecdsa-sha2-nistp256 AAAAe"])).toBe("ecdsa-sha2-nistp256 AAAAe");
    expect(preferredHostKey([])).toBeUndefined();
  });
});

describe("the runner's registry credentials", () => {
  it("a GCP stack's runner gets the GCE metadata helper for its region's Artifact Registry host, where the app images go", async () => {
    const { createGcpProvider } = await import("../../../../src/providers/gcp/provider.js");
    const { artifactImage } = await import("../../../../src/providers/gcp/artifact-registry.js");
    const provider = createGcpProvider({ stack: "s", stackDir: "/nowhere", env: {}, emit: () => {} }, { clients: {} as never });
    const auth = provider.runnerRegistryAuth!({ region: "europe-west1" } as never);
    expect(auth).toEqual({ helper: "gce-metadata", hosts: ["europe-west1-docker.pkg.dev"] });
    expect(artifactImage("p", "europe-west1", "pilot-s", "web").split("/")[0]).toBe(auth!.hosts[0]);
    // And the server's account may push there.
    expect(SERVER_ROLES).toContain("roles/artifactregistry.writer");
  });

  it("the server's account deploys to Cloud Run but can never make a service public (no run.services.setIamPolicy)", () => {
    expect(SERVER_ROLES).toContain("roles/run.developer");
    expect(SERVER_ROLES).not.toContain("roles/run.admin");
    expect(SERVER_ROLES.filter((r) => r.startsWith("roles/run."))).toEqual(["roles/run.developer"]);
  });
});
