/**
 * Public images: `ubuntu-os-cloud`'s `ubuntu-2404-lts-amd64` family (and its
 * arm64 sibling), served by images.get, images.list and
 * images.getFromFamily. A test can publish a newer image into a family
 * (control.setNewestImage) to check that a re-run does not replace a server
 * built from the older one; older images stay gettable, as on GCE.
 */
import { notFound } from "../errors.js";
import { numericId, timestamp } from "../ids.js";
import { applyFilter, paginate } from "../list-util.js";
import type { HandlerTable, Obj } from "../types.js";
import { clone, queryString } from "../types.js";
import { parseRef, selfLink } from "./store.js";

export const DEFAULT_IMAGE_PROJECT = "ubuntu-os-cloud";
export const DEFAULT_IMAGE_FAMILY = "ubuntu-2404-lts-amd64";
export const DEFAULT_IMAGE_NAME = "ubuntu-2404-noble-amd64-v20261101";

export class ImageCatalog {
  /** `project/name` → image. */
  private readonly images = new Map<string, Obj>();
  /** `project/family` → image names, oldest first. */
  private readonly families = new Map<string, string[]>();

  constructor(now: number) {
    this.add(DEFAULT_IMAGE_PROJECT, "ubuntu-2404-lts-amd64", "ubuntu-2404-noble-amd64-v20261015", now - 30 * 86_400_000);
    this.add(DEFAULT_IMAGE_PROJECT, "ubuntu-2404-lts-amd64", DEFAULT_IMAGE_NAME, now - 14 * 86_400_000);
    this.add(DEFAULT_IMAGE_PROJECT, "ubuntu-2404-lts-arm64", "ubuntu-2404-noble-arm64-v20261101", now - 14 * 86_400_000);
  }

  /** Publishes an image as the newest of its family (no-op if it already is). */
  add(project: string, family: string, name: string, created: number): Obj {
    const key = `${project}/${name}`;
    const arm = family.includes("arm64");
    let img = this.images.get(key);
    if (!img) {
      const date = /v(\d{4})(\d{2})(\d{2})/.exec(name);
      img = {
        kind: "compute#image",
        id: numericId(),
        creationTimestamp: timestamp(created),
        name,
        description: `Canonical, Ubuntu, 24.04 LTS, ${arm ? "arm64" : "amd64"} noble image${date ? ` built on ${date[1]}-${date[2]}-${date[3]}` : ""}`,
        family,
        selfLink: selfLink(`projects/${project}/global/images/${name}`),
        sourceType: "RAW",
        status: "READY",
        archiveSizeBytes: "1937349568",
        diskSizeGb: "10",
        licenses: [selfLink(`projects/${project}/global/licenses/ubuntu-2404-lts`)],
        licenseCodes: ["2211838267635035815"],
        guestOsFeatures: [{ type: "VIRTIO_SCSI_MULTIQUEUE" }, { type: "SEV_CAPABLE" }, { type: "GVNIC" }, { type: "UEFI_COMPATIBLE" }, { type: "IDPF" }],
        architecture: arm ? "ARM64" : "X86_64",
        labelFingerprint: "42WmSpB8rSM=",
        storageLocations: ["eu", "asia", "us"],
      };
      this.images.set(key, img);
    }
    const fam = (this.families.get(`${project}/${family}`) ?? []).filter((n) => n !== name);
    fam.push(name);
    this.families.set(`${project}/${family}`, fam);
    return img;
  }

  newest(project: string, family: string): Obj {
    const fam = this.families.get(`${project}/${family}`);
    if (!fam?.length) throw notFound(`The resource 'projects/${project}/global/images/family/${family}' was not found`);
    return this.images.get(`${project}/${fam[fam.length - 1]}`)!;
  }

  get(project: string, name: string): Obj {
    const img = this.images.get(`${project}/${name}`);
    if (!img) throw notFound(`The resource 'projects/${project}/global/images/${name}' was not found`);
    return img;
  }

  list(project: string): Obj[] {
    return [...this.images.entries()].filter(([k]) => k.startsWith(`${project}/`)).map(([, v]) => v);
  }

  /** An instance's `sourceImage` (full/partial URL, by name or `family/x`), resolved to an image. */
  resolve(ref: string, defaultProject: string): Obj {
    const m = /^(?:.*\/)?projects\/([^/]+)\/global\/images\/(family\/)?([^/]+)$/.exec(ref) ?? /^global\/images\/(family\/)?([^/]+)$/.exec(ref);
    if (!m) {
      const parsed = parseRef(ref, defaultProject);
      throw notFound(`The resource '${parsed?.path ?? ref}' was not found`);
    }
    const [project, isFamily, name] = m.length === 4 ? [m[1], m[2], m[3]] : [defaultProject, m[1], m[2]];
    return isFamily ? this.newest(project, name) : this.get(project, name);
  }
}

export const imageHandlers: HandlerTable = {
  "compute.images.getFromFamily": (call) => clone(call.world.images.newest(call.params.project, call.params.family)),
  "compute.images.get": (call) => clone(call.world.images.get(call.params.project, call.params.image)),
  "compute.images.list": (call) => {
    const items = applyFilter(call.world.images.list(call.params.project).map(clone), queryString(call.query, "filter"));
    const { page, nextPageToken } = paginate(items, queryString(call.query, "maxResults"), queryString(call.query, "pageToken"));
    const id = `projects/${call.params.project}/global/images`;
    const out: Obj = { kind: "compute#imageList", id, selfLink: selfLink(id) };
    if (page.length) out.items = page;
    if (nextPageToken) out.nextPageToken = nextPageToken;
    return out;
  },
};
