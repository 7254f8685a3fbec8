/**
 * Every resource the fake holds, in one flat list (api, collection, name,
 * id/selfLink, labels, description, state), so a test can assert what a run
 * left behind, e.g. "nothing labelled pilot-stack=x is left".
 */
import type { InventoryItem } from "./types.js";
import type { World } from "./world.js";

export function inventory(w: World): InventoryItem[] {
  w.timeline.settle();
  const out: InventoryItem[] = [];
  for (const r of w.compute.all()) {
    out.push({
      api: "compute",
      collection: r.collection,
      project: r.project,
      location: r.scope.kind === "global" ? undefined : r.scope.name,
      name: r.name,
      id: r.id,
      selfLink: r.resource.selfLink,
      labels: { ...(r.resource.labels ?? {}) },
      description: r.resource.description,
      state: r.resource.status ?? (r.ready ? (r.deleting ? "DELETING" : "READY") : "CREATING"),
    });
  }
  for (const i of w.sql.instances.values()) {
    out.push({
      api: "sqladmin",
      collection: "instances",
      project: i.project,
      location: i.resource.region,
      name: i.name,
      selfLink: i.resource.selfLink,
      labels: { ...(i.resource.settings?.userLabels ?? {}) },
      state: i.resource.state,
    });
  }
  for (const db of w.sql.databases.values()) {
    out.push({ api: "sqladmin", collection: "databases", project: db.project, name: `${db.instance}/${db.name}`, selfLink: db.selfLink, labels: {} });
  }
  for (const u of w.sql.users.values()) {
    out.push({ api: "sqladmin", collection: "users", project: u.project, name: `${u.instance}/${u.name}${u.host ? `@${u.host}` : ""}`, labels: {} });
  }
  for (const c of w.networking.connections.values()) {
    out.push({ api: "servicenetworking", collection: "connections", project: c.project, name: "servicenetworking-googleapis-com", id: c.network, labels: {} });
  }
  for (const [name, c] of w.vpc.connectors) {
    out.push({ api: "vpcaccess", collection: "connectors", project: c.project, location: c.region, name: c.id, selfLink: name, labels: {}, state: c.resource.state });
  }
  for (const [name, r] of w.artifacts.repositories) {
    out.push({ api: "artifactregistry", collection: "repositories", project: r.project, location: r.region, name: r.id, selfLink: name, labels: { ...(r.resource.labels ?? {}) }, description: r.resource.description });
  }
  for (const s of w.run.services.values()) {
    out.push({
      api: "run",
      collection: "services",
      project: s.project,
      location: s.region,
      name: s.name,
      id: s.uid,
      selfLink: `projects/${s.project}/locations/${s.region}/services/${s.name}`,
      labels: { ...(s.metadata.labels ?? {}) },
    });
  }
  for (const s of w.secrets.secrets.values()) {
    out.push({
      api: "secretmanager",
      collection: "secrets",
      project: s.project,
      name: s.id,
      selfLink: s.resource.name,
      labels: { ...(s.resource.labels ?? {}) },
      state: `${s.versions.length} versions`,
    });
  }
  for (const a of w.iam.accounts.values()) {
    out.push({
      api: "iam",
      collection: "serviceAccounts",
      project: a.__project,
      name: a.email,
      id: a.uniqueId,
      selfLink: a.name,
      labels: {},
      description: a.description ?? a.displayName,
    });
  }
  return out;
}
