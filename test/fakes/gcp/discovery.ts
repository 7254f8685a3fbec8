/**
 * Google's own discovery documents, the single source of truth for what the
 * fake accepts. They come from the Python client (`google-api-python-client`,
 * installed into the moto venv by scripts/services.sh), which ships every
 * API's document under `googleapiclient/discovery_cache/documents/`. Reading
 * them instead of typing schemas by hand means the fake rejects exactly what
 * Google's front end rejects for field names, types and enums.
 *
 * Only the ten documents Pilot uses (its GCP provider's, Artifact Registry
 * for `pilot new app`, Cloud Run and Secret Manager for `pilot up`) are read, lazily and
 * once per process (compute.v1.json is about 5 MB).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The APIs the fake serves, with the version of each. */
export const API_VERSIONS = {
  compute: "v1",
  sqladmin: "v1",
  servicenetworking: "v1",
  vpcaccess: "v1",
  iam: "v1",
  cloudresourcemanager: "v1",
  serviceusage: "v1",
  artifactregistry: "v1",
  run: "v1",
  secretmanager: "v1",
} as const;

export type ApiName = keyof typeof API_VERSIONS;
export const API_NAMES = Object.keys(API_VERSIONS) as ApiName[];

/** A method or top-level parameter, as discovery describes it. */
export interface DiscoveryParameter {
  type: string;
  format?: string;
  location?: "path" | "query";
  required?: boolean;
  repeated?: boolean;
  pattern?: string;
  enum?: string[];
  description?: string;
}

/** A JSON schema in discovery's dialect (`$ref` by id, `annotations.required` by method id). */
export interface DiscoverySchema {
  id?: string;
  type?: string;
  $ref?: string;
  format?: string;
  enum?: string[];
  pattern?: string;
  readOnly?: boolean;
  description?: string;
  properties?: Record<string, DiscoverySchema>;
  additionalProperties?: DiscoverySchema;
  items?: DiscoverySchema;
  annotations?: { required?: string[] };
}

export interface DiscoveryMethod {
  id: string;
  httpMethod: string;
  path: string;
  flatPath?: string;
  parameters?: Record<string, DiscoveryParameter>;
  parameterOrder?: string[];
  request?: { $ref: string };
  response?: { $ref: string };
}

export interface DiscoveryResource {
  methods?: Record<string, DiscoveryMethod>;
  resources?: Record<string, DiscoveryResource>;
}

export interface DiscoveryDocument {
  name: string;
  version: string;
  title: string;
  rootUrl: string;
  servicePath: string;
  parameters: Record<string, DiscoveryParameter>;
  schemas: Record<string, DiscoverySchema>;
  resources: Record<string, DiscoveryResource>;
}

/** Thrown (with a one-line message) when the documents are not on this machine. */
export class DiscoveryMissingError extends Error {
  override name = "DiscoveryMissingError";
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * The folder holding the documents: `$PILOT_GCP_DISCOVERY_DIR` if set, else
 * the Python client's folder inside the moto venv (`$PILOT_MOTO_VENV`, default
 * `.venv/moto`), whatever its python3.X is.
 */
export function discoveryDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.PILOT_GCP_DISCOVERY_DIR;
  if (override) {
    if (!existsSync(join(override, "compute.v1.json"))) {
      throw new DiscoveryMissingError(
        `gcp fake: PILOT_GCP_DISCOVERY_DIR=${override} holds no compute.v1.json; point it at googleapiclient/discovery_cache/documents or unset it and run \`bash scripts/services.sh\``,
      );
    }
    return override;
  }
  const venvSetting = env.PILOT_MOTO_VENV || ".venv/moto";
  const venv = isAbsolute(venvSetting) ? venvSetting : join(REPO_ROOT, venvSetting);
  const lib = join(venv, "lib");
  const pythons = existsSync(lib) ? readdirSync(lib).filter((d) => d.startsWith("python3")).sort().reverse() : [];
  for (const py of pythons) {
    const dir = join(lib, py, "site-packages", "googleapiclient", "discovery_cache", "documents");
    if (existsSync(join(dir, "compute.v1.json"))) return dir;
  }
  throw new DiscoveryMissingError(
    `gcp fake: Google's discovery documents (google-api-python-client) are not installed in ${venv}; run \`bash scripts/services.sh\``,
  );
}

const cache = new Map<string, DiscoveryDocument>();

/** One API's document, parsed on first use and kept for the life of the process. */
export function loadDiscovery(api: ApiName, dir: string = discoveryDir()): DiscoveryDocument {
  const file = join(dir, `${api}.${API_VERSIONS[api]}.json`);
  let doc = cache.get(file);
  if (!doc) {
    if (!existsSync(file)) {
      throw new DiscoveryMissingError(`gcp fake: ${file} is missing; run \`bash scripts/services.sh\``);
    }
    doc = JSON.parse(readFileSync(file, "utf8")) as DiscoveryDocument;
    cache.set(file, doc);
  }
  return doc;
}

/** Every method of a document, depth first. */
export function allMethods(doc: DiscoveryDocument): DiscoveryMethod[] {
  const out: DiscoveryMethod[] = [];
  const walk = (resources: Record<string, DiscoveryResource> | undefined): void => {
    for (const r of Object.values(resources ?? {})) {
      out.push(...Object.values(r.methods ?? {}));
      walk(r.resources);
    }
  };
  walk(doc.resources);
  return out;
}

/** The schema a `$ref` names; throws on a dangling reference (a broken document). */
export function schemaOf(doc: DiscoveryDocument, ref: string): DiscoverySchema {
  const s = doc.schemas[ref];
  if (!s) throw new Error(`gcp fake: ${doc.name}.${doc.version} has no schema ${ref}`);
  return s;
}
