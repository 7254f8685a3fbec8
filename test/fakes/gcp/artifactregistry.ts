/**
 * Artifact Registry repositories: create (`?repositoryId=`, a long-running
 * operation), get, list, delete (also an operation), and their operations.
 * A repository exists from the moment its create is accepted (Google shows it
 * while the operation runs); a second create of the same id is 409. Request
 * bodies reach these handlers only after the dispatcher checked them against
 * artifactregistry.v1's discovery document.
 */
import { alreadyExists, invalid, notFound } from "./errors.js";
import { timestamp, uuid } from "./ids.js";
import { isRegion } from "./compute/geo.js";
import { paginate } from "./list-util.js";
import type { Call, HandlerTable, Obj } from "./types.js";
import { clone, queryString } from "./types.js";

interface Repository {
  project: string;
  region: string;
  id: string;
  resource: Obj;
}

export class ArtifactRegistryState {
  /** By full name `projects/P/locations/R/repositories/ID`. */
  readonly repositories = new Map<string, Repository>();
}

/** Google's rule for repository ids: lowercase letters, digits and hyphens, a letter first, up to 63. */
const REPOSITORY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

function parseParent(call: Call, parent: string): { project: string; region: string } {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
  if (!m) throw invalid(`Invalid parent '${parent}'.`, "parent");
  if (!isRegion(m[2]!)) throw invalid(`Location '${m[2]}' is not a valid region.`, "parent");
  return { project: call.world.projects.idOf(m[1]!), region: m[2]! };
}

function requireRepository(call: Call): Repository {
  const r = call.world.artifacts.repositories.get(call.params.name!);
  if (!r) throw notFound(`Requested entity was not found.`);
  return r;
}

function metadata(): Obj {
  return { "@type": "type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata" };
}

export const artifactregistryHandlers: HandlerTable = {
  "artifactregistry.projects.locations.repositories.create": (call) => {
    const w = call.world;
    const { project, region } = parseParent(call, call.params.parent!);
    const id = queryString(call.query, "repositoryId") ?? "";
    if (!REPOSITORY_ID.test(id)) throw invalid(`Invalid repository ID '${id}'.`, "repository_id");
    const name = `${call.params.parent}/repositories/${id}`;
    if (w.artifacts.repositories.has(name)) throw alreadyExists(`the repository already exists`);
    const body = clone(call.body);
    if (!body.format || body.format === "FORMAT_UNSPECIFIED") throw invalid("Repository format must be specified.", "repository.format");
    const now = timestamp(w.now());
    const resource: Obj = { ...body, name, mode: body.mode ?? "STANDARD_REPOSITORY", createTime: now, updateTime: now, sizeBytes: "0" };
    if (body.format === "DOCKER") resource.registryUri = `${region}-docker.pkg.dev/${project}/${id}`;
    const repo: Repository = { project, region, id, resource };
    w.artifacts.repositories.set(name, repo);
    return w.lro.start(call, {
      name: `${call.params.parent}/operations/${uuid()}`,
      kind: "artifactregistry.repositories",
      metadata: metadata(),
      finish: () => ({ "@type": "type.googleapis.com/google.devtools.artifactregistry.v1.Repository", ...clone(resource) }),
      onFail: () => {
        w.artifacts.repositories.delete(name);
      },
    });
  },

  "artifactregistry.projects.locations.repositories.get": (call) => clone(requireRepository(call).resource),

  "artifactregistry.projects.locations.repositories.list": (call) => {
    const w = call.world;
    parseParent(call, call.params.parent!);
    const prefix = `${call.params.parent}/repositories/`;
    const items = [...w.artifacts.repositories.entries()].filter(([k]) => k.startsWith(prefix)).map(([, r]) => clone(r.resource));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "pageSize"), queryString(call.query, "pageToken"), 1000);
    const out: Obj = {};
    if (page.length) out.repositories = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },

  "artifactregistry.projects.locations.repositories.delete": (call) => {
    const w = call.world;
    requireRepository(call);
    const name = call.params.name!;
    return w.lro.start(call, {
      name: `${name.replace(/\/repositories\/[^/]+$/, "")}/operations/${uuid()}`,
      kind: "artifactregistry.repositories",
      metadata: metadata(),
      finish: () => {
        w.artifacts.repositories.delete(name);
        return { "@type": "type.googleapis.com/google.protobuf.Empty" };
      },
    });
  },

  "artifactregistry.projects.locations.operations.get": (call) => call.world.lro.get("artifactregistry", call.params.name!),
};
