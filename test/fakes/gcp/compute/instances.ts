/**
 * compute instances (zonal) and the boot disks they create. insert checks
 * what compute checks before accepting (machine type URL and zone, a boot
 * disk from a known image, the subnetwork in the instance's region, a static
 * natIP that is reserved in that region and free, service accounts that
 * exist), takes an internal IP from the subnetwork, then moves the instance
 * PROVISIONING → STAGING → RUNNING as its operation runs. stop/start,
 * suspend/resume, setMachineType, setLabels, setMetadata, setTags,
 * add/deleteAccessConfig and getGuestAttributes too.
 */
import { conditionNotMet, GcpError, invalid, required } from "../errors.js";
import { fingerprintOf, numericId, timestamp } from "../ids.js";
import { nextFreeHost, parseCidr, parseIp, contains } from "../ip.js";
import { operationDelay } from "../latency.js";
import type { Call, HandlerTable, Obj } from "../types.js";
import { clone, queryString } from "../types.js";
import { allocateExternalIp, usedInternalIps } from "./addresses.js";
import { aggregatedResponse, deleteRecord, insertRecord, KIND, listResponse, newRecord, projectOf, render, scopeOf, updateRecord } from "./common.js";
import { getGuestAttributes } from "./guest-attributes.js";
import { checkLabels, labelFingerprint, parseRef, regionOfZone, resourcePath, selfLink, type ComputeRecord, type Scope } from "./store.js";

const MACHINE_TYPE = /^(?:(?:e2|n1|n2|n2d|n4|t2d|t2a|c2|c2d|c3|c3d|c4|c4a|m1|m2|m3|a2|a3|g2)-[a-z0-9-]+|f1-micro|g1-small)$/;

function zoneName(scope: Scope): string {
  return scope.kind === "zone" ? scope.name : "";
}

function checkMachineType(value: unknown, zone: string, project: string, field = "resource.machineType"): string {
  if (typeof value !== "string" || !value) throw invalid(`Invalid value for field '${field}': ''. Machine type must be specified.`, "machineType");
  const ref = parseRef(value, project);
  if (!ref || ref.collection !== "machineTypes" || !ref.scopePath.startsWith("zones/")) {
    throw invalid(`Invalid value for field '${field}': '${value}'. The URL is malformed.`, "machineType");
  }
  if (ref.scopePath !== `zones/${zone}`) {
    throw invalid(`Invalid value for field '${field}': '${value}'. Machine type must be in zone '${zone}'.`, "machineType");
  }
  if (!MACHINE_TYPE.test(ref.name)) {
    throw invalid(`Invalid value for field '${field}': '${value}'. Machine type with name '${ref.name}' does not exist in zone '${zone}'.`, "machineType");
  }
  return selfLink(`projects/${ref.project}/zones/${zone}/machineTypes/${ref.name}`);
}

function checkMetadata(md: Obj | undefined): Obj {
  const items = (md?.items ?? []) as { key: string; value?: string }[];
  const seen = new Set<string>();
  for (const [i, it] of items.entries()) {
    if (!it.key) throw invalid(`Invalid value for field 'resource.metadata.items[${i}].key': ''. Metadata key must be specified.`, `metadata.items[${i}].key`);
    if (seen.has(it.key)) throw invalid(`Invalid value for field 'resource.metadata': ''. Duplicate metadata key '${it.key}'.`, "metadata");
    seen.add(it.key);
  }
  const out: Obj = { kind: "compute#metadata", fingerprint: fingerprintOf(items.length ? items : "empty-metadata") };
  if (items.length) out.items = items.map((i) => ({ key: i.key, value: i.value ?? "" }));
  return out;
}

/** Boot and data disks: a new disk record for each `initializeParams`, attached entries for the instance. */
function prepareDisks(call: Call, inst: ComputeRecord, disks: Obj[]): { attached: Obj[]; created: ComputeRecord[] } {
  const w = call.world;
  if (!disks.length) throw invalid("Invalid value for field 'resource.disks': ''. At least one disk must be specified, including a boot disk.", "disks");
  if (!disks.some((d) => d.boot) && disks.length > 0) disks[0] = { ...disks[0], boot: disks[0].boot ?? true };
  const attached: Obj[] = [];
  const created: ComputeRecord[] = [];
  const zone = zoneName(inst.scope);
  disks.forEach((d, index) => {
    const field = `resource.disks[${index}]`;
    let diskLink: string;
    let size = "10";
    let licenses: string[] | undefined;
    if (d.initializeParams) {
      const ip = d.initializeParams as Obj;
      const diskName = ip.diskName ?? (index === 0 ? inst.name : `${inst.name}-${index}`);
      const path = resourcePath("disks", inst.project, inst.scope, diskName);
      if (w.compute.get(path) || created.some((c) => c.name === diskName)) {
        throw new GcpError(409, `The resource '${path}' already exists`, { reason: "alreadyExists" });
      }
      let image: Obj | undefined;
      if (ip.sourceImage) image = w.images.resolve(String(ip.sourceImage), inst.project);
      else if (d.boot) throw invalid(`Invalid value for field '${field}.initializeParams.sourceImage': ''. A boot disk needs a source image or snapshot.`, `disks[${index}].initializeParams.sourceImage`);
      size = ip.diskSizeGb !== undefined ? String(ip.diskSizeGb) : (image?.diskSizeGb ?? "10");
      if (image && Number(size) < Number(image.diskSizeGb)) {
        throw invalid(`Invalid value for field '${field}.initializeParams.diskSizeGb': '${size}'. Requested disk size cannot be smaller than the image size (${image.diskSizeGb} GB)`, `disks[${index}].initializeParams.diskSizeGb`);
      }
      const diskType = ip.diskType ? String(ip.diskType) : `zones/${zone}/diskTypes/pd-standard`;
      const typeRef = parseRef(diskType, inst.project);
      if (!typeRef || typeRef.collection !== "diskTypes") {
        throw invalid(`Invalid value for field '${field}.initializeParams.diskType': '${diskType}'. The URL is malformed.`, `disks[${index}].initializeParams.diskType`);
      }
      licenses = image?.licenses;
      const labels = checkLabels(ip.labels, `disks[${index}].initializeParams.labels`);
      const resource: Obj = {
        kind: KIND.disks,
        id: numericId(),
        creationTimestamp: timestamp(w.now()),
        name: diskName,
        sizeGb: size,
        zone: selfLink(`projects/${inst.project}/zones/${zone}`),
        status: "CREATING",
        selfLink: selfLink(path),
        type: selfLink(`projects/${typeRef.project}/${typeRef.scopePath}/diskTypes/${typeRef.name}`),
        users: [inst.resource.selfLink],
        labelFingerprint: labelFingerprint(labels),
        physicalBlockSizeBytes: "4096",
        architecture: image?.architecture ?? "X86_64",
      };
      if (Object.keys(labels).length) resource.labels = labels;
      if (image) {
        resource.sourceImage = image.selfLink;
        resource.sourceImageId = image.id;
        resource.licenses = image.licenses;
        resource.guestOsFeatures = image.guestOsFeatures;
      }
      if (ip.description) resource.description = ip.description;
      created.push({ collection: "disks", project: inst.project, scope: inst.scope, name: diskName, id: resource.id, resource, ready: false, deleting: false });
      diskLink = resource.selfLink;
    } else if (d.source) {
      const disk = w.compute.resolve(String(d.source), "disks", inst.project, `${field}.source`);
      if ((disk.resource.users ?? []).length) throw invalid(`The disk resource '${w.compute.pathOf(disk)}' is already being used by '${disk.resource.users[0]}'`, `disks[${index}].source`, "resourceInUseByAnotherResource");
      disk.resource.users = [inst.resource.selfLink];
      diskLink = disk.resource.selfLink;
      size = disk.resource.sizeGb;
      licenses = disk.resource.licenses;
    } else {
      throw invalid(`Invalid value for field '${field}': ''. A disk needs 'source' or 'initializeParams'.`, `disks[${index}]`);
    }
    const entry: Obj = {
      kind: "compute#attachedDisk",
      type: d.type ?? "PERSISTENT",
      mode: d.mode ?? "READ_WRITE",
      source: diskLink,
      deviceName: d.deviceName ?? `persistent-disk-${index}`,
      index,
      boot: Boolean(d.boot),
      autoDelete: Boolean(d.autoDelete),
      interface: d.interface ?? "SCSI",
      diskSizeGb: size,
      architecture: "X86_64",
    };
    if (licenses) entry.licenses = licenses;
    attached.push(entry);
  });
  return { attached, created };
}

/** Network interfaces: subnetwork in the instance's region, an internal IP from it, access configs. */
function prepareNics(call: Call, inst: ComputeRecord, nics: Obj[]): { nics: Obj[]; natAddresses: ComputeRecord[] } {
  const w = call.world;
  if (!nics.length) throw invalid("Invalid value for field 'resource.networkInterfaces': ''. At least one network interface must be specified.", "networkInterfaces");
  const region = regionOfZone(zoneName(inst.scope));
  const natAddresses: ComputeRecord[] = [];
  const out = nics.map((nic, i) => {
    const field = `resource.networkInterfaces[${i}]`;
    let net: ComputeRecord | undefined = nic.network ? w.compute.resolve(String(nic.network), "networks", inst.project, `${field}.network`) : undefined;
    if (!nic.subnetwork) {
      throw invalid(`Invalid value for field '${field}.subnetwork': ''. Subnetwork should be specified for custom subnetmode network`, `networkInterfaces[${i}].subnetwork`);
    }
    const sub = w.compute.resolve(String(nic.subnetwork), "subnetworks", inst.project, `${field}.subnetwork`);
    if (sub.scope.kind !== "region" || sub.scope.name !== region) {
      throw invalid(`Invalid value for field '${field}.subnetwork': '${nic.subnetwork}'. The subnetwork must be in region '${region}'.`, `networkInterfaces[${i}].subnetwork`);
    }
    if (net && net.resource.selfLink !== sub.resource.network) {
      throw invalid(`Invalid value for field '${field}.network': '${nic.network}'. The subnetwork '${sub.name}' does not belong to this network.`, `networkInterfaces[${i}].network`);
    }
    net ??= w.compute.get(String(sub.resource.network).replace(selfLink(""), ""));
    const range = parseCidr(sub.resource.ipCidrRange)!;
    const used = usedInternalIps(call, sub.resource.selfLink);
    let networkIP: string | undefined = nic.networkIP;
    if (networkIP) {
      const ip = parseIp(networkIP);
      if (ip === undefined || !contains(range, ip)) {
        throw invalid(`Invalid value for field '${field}.networkIP': '${networkIP}'. Requested internal IP is outside the subnetwork CIDR range.`, `networkInterfaces[${i}].networkIP`);
      }
      if (used.has(networkIP)) throw invalid(`Invalid value for field '${field}.networkIP': '${networkIP}'. IP address '${networkIP}' is already being used by another resource.`, `networkInterfaces[${i}].networkIP`);
    } else {
      networkIP = nextFreeHost(range, used);
      if (!networkIP) throw invalid(`The subnetwork '${sub.name}' has no free IP address left.`);
    }
    const accessConfigs = ((nic.accessConfigs ?? []) as Obj[]).map((ac, j) => {
      const acField = `${field}.accessConfigs[${j}]`;
      const out: Obj = {
        kind: "compute#accessConfig",
        type: ac.type ?? "ONE_TO_ONE_NAT",
        name: ac.name ?? "External NAT",
        networkTier: ac.networkTier ?? "PREMIUM",
      };
      if (ac.natIP) {
        const addr = w.compute
          .list("addresses", inst.project, { kind: "region", name: region })
          .find((a) => a.resource.address === ac.natIP && a.resource.addressType === "EXTERNAL");
        if (!addr) {
          throw invalid(`Invalid value for field '${acField}.natIP': '${ac.natIP}'. The specified external IP address '${ac.natIP}' was not found in region '${region}'.`, `networkInterfaces[${i}].accessConfigs[${j}].natIP`);
        }
        if (!addr.ready) throw new GcpError(400, `The resource '${w.compute.pathOf(addr)}' is not ready`, { reason: "resourceNotReady" });
        if (addr.resource.status === "IN_USE" || natAddresses.includes(addr)) {
          throw invalid(`Invalid value for field '${acField}.natIP': '${ac.natIP}'. IP address '${ac.natIP}' is already being used by another resource.`, `networkInterfaces[${i}].accessConfigs[${j}].natIP`);
        }
        natAddresses.push(addr);
        out.natIP = ac.natIP;
      }
      if (ac.setPublicPtr !== undefined) out.setPublicPtr = ac.setPublicPtr;
      if (ac.publicPtrDomainName !== undefined) out.publicPtrDomainName = ac.publicPtrDomainName;
      return out;
    });
    const res: Obj = {
      kind: "compute#networkInterface",
      network: net?.resource.selfLink,
      subnetwork: sub.resource.selfLink,
      networkIP,
      name: `nic${i}`,
      fingerprint: fingerprintOf({ i, networkIP }),
      stackType: nic.stackType ?? "IPV4_ONLY",
    };
    if (accessConfigs.length) res.accessConfigs = accessConfigs;
    if (nic.nicType) res.nicType = nic.nicType;
    return res;
  });
  return { nics: out, natAddresses };
}

function checkServiceAccounts(call: Call, inst: ComputeRecord, sas: Obj[]): Obj[] {
  const w = call.world;
  return sas.map((sa, i) => {
    let email = String(sa.email ?? "default");
    if (email === "default") email = `${w.projects.numberOf(inst.project)}-compute@developer.gserviceaccount.com`;
    else if (email.endsWith(".iam.gserviceaccount.com") && !w.iam.find(email)) {
      throw invalid(
        `Invalid value for field 'resource.serviceAccounts[${i}].email': '${email}'. The user does not have access to service account '${email}'.  User: '${w.callerEmail}'.  Ask a project owner to grant you the iam.serviceAccountUser role on the service account`,
        `serviceAccounts[${i}].email`,
      );
    }
    return { email, scopes: sa.scopes ?? [] };
  });
}

/** Marks static external addresses as used by the instance (or frees them). */
function bindAddresses(addresses: ComputeRecord[], instanceLink: string | undefined): void {
  for (const a of addresses) {
    if (instanceLink) {
      a.resource.status = "IN_USE";
      a.resource.users = [instanceLink];
    } else {
      a.resource.status = "RESERVED";
      delete a.resource.users;
    }
  }
}

function natAddressesOf(call: Call, inst: ComputeRecord): ComputeRecord[] {
  return call.world.compute.all().filter((a) => a.collection === "addresses" && (a.resource.users ?? []).includes(inst.resource.selfLink));
}

/** An instance's network interface by name (`nic0`), or 400 as compute answers. */
function findNic(inst: ComputeRecord, name: string): Obj {
  const nic = ((inst.resource.networkInterfaces ?? []) as Obj[]).find((n) => n.name === name);
  if (!nic) throw invalid(`Invalid value for field 'networkInterface': '${name}'. No network interface named '${name}'.`, "networkInterface");
  return nic;
}

function requireInstance(call: Call): ComputeRecord {
  return call.world.compute.require("instances", projectOf(call), scopeOf(call), call.params.instance);
}

/** Schedules a status change halfway through an operation (e.g. STAGING on the way to RUNNING). */
function midway(call: Call, kind: string, run: () => void): void {
  const w = call.world;
  w.timeline.at(w.now() + operationDelay(w.latency, call.methodId, kind) / 2, run);
}

const insert = (call: Call): Obj => {
  const w = call.world;
  const r = newRecord(call, "instances", call.body);
  const zone = zoneName(r.scope);
  const res = r.resource;
  res.machineType = checkMachineType(res.machineType, zone, r.project);
  const { nics, natAddresses } = prepareNics(call, r, (call.body.networkInterfaces ?? []) as Obj[]);
  const { attached, created } = prepareDisks(call, r, (call.body.disks ?? []) as Obj[]);
  if (call.body.serviceAccounts) res.serviceAccounts = checkServiceAccounts(call, r, call.body.serviceAccounts);
  res.networkInterfaces = nics;
  res.disks = attached;
  res.metadata = checkMetadata(call.body.metadata);
  const labels = checkLabels(call.body.labels);
  if (Object.keys(labels).length) res.labels = labels;
  else delete res.labels;
  res.labelFingerprint = labelFingerprint(labels);
  res.tags = { ...(call.body.tags?.items?.length ? { items: call.body.tags.items } : {}), fingerprint: fingerprintOf(call.body.tags?.items ?? []) };
  res.scheduling = { onHostMaintenance: "MIGRATE", automaticRestart: true, preemptible: false, provisioningModel: "STANDARD", ...(call.body.scheduling ?? {}) };
  res.status = "PROVISIONING";
  res.cpuPlatform = "Unknown CPU Platform";
  res.deletionProtection ??= false;
  res.canIpForward ??= false;
  res.startRestricted = false;
  res.fingerprint = fingerprintOf({ id: r.id });
  delete res.initializeParams;
  for (const d of created) w.compute.put(d);
  bindAddresses(natAddresses, res.selfLink);
  midway(call, "compute.instances", () => {
    if (res.status === "PROVISIONING") res.status = "STAGING";
  });
  const op = insertRecord(
    call,
    r,
    () => {
      res.status = "RUNNING";
      res.cpuPlatform = "Intel Broadwell";
      res.lastStartTimestamp = timestamp(w.now());
      for (const d of created) {
        d.ready = true;
        d.resource.status = "READY";
        d.resource.lastAttachTimestamp = timestamp(w.now());
      }
      for (const nic of res.networkInterfaces ?? []) {
        for (const ac of nic.accessConfigs ?? []) ac.natIP ??= allocateExternalIp(call);
      }
    },
    () => {
      // a failed insert leaves nothing behind
      for (const d of created) w.compute.remove(d);
      bindAddresses(natAddresses, undefined);
    },
  );
  return op;
};

export const instanceHandlers: HandlerTable = {
  "compute.instances.insert": insert,
  "compute.instances.get": (call) => render(requireInstance(call)),
  "compute.instances.list": (call) => listResponse(call, "instances", "compute#instanceList"),
  "compute.instances.aggregatedList": (call) => aggregatedResponse(call, "instances", "compute#instanceAggregatedList", "instances"),

  "compute.instances.delete": (call) => {
    const w = call.world;
    const inst = requireInstance(call);
    if (inst.resource.deletionProtection) {
      throw invalid(`Invalid resource usage: 'Resource cannot be deleted if it's protected against deletion.'`, undefined, "resourceInUseByAnotherResource");
    }
    const nat = natAddressesOf(call, inst);
    const out = deleteRecord(call, inst, undefined, () => {
      bindAddresses(nat, undefined);
      for (const d of inst.resource.disks ?? []) {
        const disk = w.compute.get(String(d.source).replace(selfLink(""), ""));
        if (!disk) continue;
        if (d.autoDelete) w.compute.remove(disk);
        else delete disk.resource.users;
      }
    });
    inst.resource.status = "STOPPING";
    return out;
  },

  "compute.instances.stop": (call) => {
    const inst = requireInstance(call);
    const out = updateRecord(call, inst, "stop", () => {
      inst.resource.status = "TERMINATED";
      inst.resource.lastStopTimestamp = timestamp(call.world.now());
      for (const nic of inst.resource.networkInterfaces ?? []) {
        for (const ac of nic.accessConfigs ?? []) {
          const isStatic = natAddressesOf(call, inst).some((a) => a.resource.address === ac.natIP);
          if (!isStatic) delete ac.natIP;
        }
      }
    });
    inst.resource.status = "STOPPING";
    return out;
  },

  "compute.instances.start": (call) => {
    const inst = requireInstance(call);
    if (inst.resource.status !== "TERMINATED") return updateRecord(call, inst, "start", () => undefined);
    const out = updateRecord(call, inst, "start", () => {
      inst.resource.status = "RUNNING";
      inst.resource.lastStartTimestamp = timestamp(call.world.now());
      for (const nic of inst.resource.networkInterfaces ?? []) for (const ac of nic.accessConfigs ?? []) ac.natIP ??= allocateExternalIp(call);
    });
    inst.resource.status = "STAGING";
    return out;
  },

  "compute.instances.setMachineType": (call) => {
    const inst = requireInstance(call);
    const link = checkMachineType(call.body.machineType, zoneName(inst.scope), inst.project, "machineType");
    if (inst.resource.status !== "TERMINATED") {
      throw invalid(`Invalid resource usage: 'Instance '${inst.name}' must be stopped before its machine type can be changed.'`, "machineType");
    }
    return updateRecord(call, inst, "setMachineType", () => {
      inst.resource.machineType = link;
    });
  },

  "compute.instances.setLabels": (call) => {
    const inst = requireInstance(call);
    const fp = call.body.labelFingerprint;
    if (fp === undefined || fp === null || fp === "") throw required("Required field 'labelFingerprint' not specified", "labelFingerprint");
    if (fp !== inst.resource.labelFingerprint) throw conditionNotMet("Labels fingerprint either invalid or resource labels have changed");
    const labels = checkLabels(call.body.labels);
    return updateRecord(call, inst, "setLabels", () => {
      if (Object.keys(labels).length) inst.resource.labels = labels;
      else delete inst.resource.labels;
      inst.resource.labelFingerprint = labelFingerprint(labels);
    });
  },

  "compute.instances.setMetadata": (call) => {
    const inst = requireInstance(call);
    const fp = call.body.fingerprint;
    if (fp === undefined || fp === null || fp === "") throw required("Required field 'fingerprint' not specified", "fingerprint");
    if (fp !== inst.resource.metadata?.fingerprint) {
      throw conditionNotMet("Supplied fingerprint does not match current metadata fingerprint.");
    }
    const md = checkMetadata(clone(call.body));
    return updateRecord(call, inst, "setMetadata", () => {
      inst.resource.metadata = md;
    });
  },

  "compute.instances.setTags": (call) => {
    const inst = requireInstance(call);
    const fp = call.body.fingerprint;
    if (fp === undefined || fp === null || fp === "") throw required("Required field 'fingerprint' not specified", "fingerprint");
    if (fp !== inst.resource.tags?.fingerprint) throw conditionNotMet("Supplied fingerprint does not match current tags fingerprint.");
    const items = [...new Set((call.body.items ?? []) as string[])];
    for (const [i, t] of items.entries()) {
      if (!/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(t)) throw invalid(`Invalid value for field 'resource.tags.items[${i}]': '${t}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`, `items[${i}]`);
    }
    return updateRecord(call, inst, "setTags", () => {
      inst.resource.tags = { ...(items.length ? { items } : {}), fingerprint: fingerprintOf({ items, at: call.world.now() }) };
    });
  },

  "compute.instances.addAccessConfig": (call) => {
    const w = call.world;
    const inst = requireInstance(call);
    const nic = findNic(inst, queryString(call.query, "networkInterface") ?? "");
    if ((nic.accessConfigs ?? []).length) {
      throw invalid("Invalid value for field 'resource.accessConfigs': ''. At most one access config currently supported.", "accessConfigs");
    }
    const region = regionOfZone(zoneName(inst.scope));
    const ac: Obj = {
      kind: "compute#accessConfig",
      type: call.body.type ?? "ONE_TO_ONE_NAT",
      name: call.body.name ?? "External NAT",
      networkTier: call.body.networkTier ?? "PREMIUM",
    };
    let addr: ComputeRecord | undefined;
    if (call.body.natIP) {
      addr = w.compute
        .list("addresses", inst.project, { kind: "region", name: region })
        .find((a) => a.resource.address === call.body.natIP && a.resource.addressType === "EXTERNAL");
      if (!addr) throw invalid(`Invalid value for field 'resource.natIP': '${call.body.natIP}'. The specified external IP address '${call.body.natIP}' was not found in region '${region}'.`, "natIP");
      if (!addr.ready) throw new GcpError(400, `The resource '${w.compute.pathOf(addr)}' is not ready`, { reason: "resourceNotReady" });
      if (addr.resource.status === "IN_USE") throw invalid(`Invalid value for field 'resource.natIP': '${call.body.natIP}'. IP address '${call.body.natIP}' is already being used by another resource.`, "natIP");
      ac.natIP = call.body.natIP;
    }
    const out = updateRecord(call, inst, "addAccessConfig", () => {
      if (!ac.natIP && inst.resource.status === "RUNNING") ac.natIP = allocateExternalIp(call);
      nic.accessConfigs = [ac];
    });
    if (addr) bindAddresses([addr], inst.resource.selfLink);
    return out;
  },

  "compute.instances.deleteAccessConfig": (call) => {
    const inst = requireInstance(call);
    const nic = findNic(inst, queryString(call.query, "networkInterface") ?? "");
    const name = queryString(call.query, "accessConfig") ?? "";
    const ac = ((nic.accessConfigs ?? []) as Obj[]).find((a) => a.name === name);
    if (!ac) throw invalid(`Invalid value for field 'accessConfig': '${name}'. No access config named '${name}' on network interface '${nic.name}'.`, "accessConfig");
    return updateRecord(call, inst, "deleteAccessConfig", () => {
      const statics = natAddressesOf(call, inst).filter((a) => a.resource.address === ac.natIP);
      bindAddresses(statics, undefined);
      nic.accessConfigs = (nic.accessConfigs as Obj[]).filter((a) => a !== ac);
      if (!nic.accessConfigs.length) delete nic.accessConfigs;
    });
  },

  "compute.instances.suspend": (call) => {
    const inst = requireInstance(call);
    if (inst.resource.status !== "RUNNING") throw invalid(`Invalid resource usage: 'Instance '${inst.name}' must be RUNNING to be suspended.'`);
    const out = updateRecord(call, inst, "suspend", () => {
      inst.resource.status = "SUSPENDED";
      inst.resource.lastSuspendedTimestamp = timestamp(call.world.now());
    });
    inst.resource.status = "SUSPENDING";
    return out;
  },

  "compute.instances.resume": (call) => {
    const inst = requireInstance(call);
    if (inst.resource.status !== "SUSPENDED") throw invalid(`Invalid resource usage: 'Instance '${inst.name}' is not suspended.'`);
    const out = updateRecord(call, inst, "resume", () => {
      inst.resource.status = "RUNNING";
      inst.resource.lastStartTimestamp = timestamp(call.world.now());
    });
    inst.resource.status = "STAGING";
    return out;
  },

  "compute.instances.getGuestAttributes": getGuestAttributes,

  "compute.disks.get": (call) => render(call.world.compute.require("disks", projectOf(call), scopeOf(call), call.params.disk)),
  "compute.disks.list": (call) => listResponse(call, "disks", "compute#diskList"),
  "compute.disks.delete": (call) => {
    const disk = call.world.compute.require("disks", projectOf(call), scopeOf(call), call.params.disk);
    const user = (disk.resource.users ?? [])[0] as string | undefined;
    return deleteRecord(call, disk, user?.replace(selfLink(""), ""));
  },
};

