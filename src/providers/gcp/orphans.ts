/**
 * Everything in the project (in the stack's region and zone, and the global
 * kinds) that carries one stack's name, whatever its lineage: what `pilot
 * teardown --orphans` compares with state. Labelled kinds (addresses, the
 * VM, Cloud SQL) are matched by their `pilot-stack` label; kinds without
 * labels by their derived name, confirmed by the ownership note in their
 * description where they have one. Each object says what it uses, so the
 * engine deletes it first.
 */
import type { TaggedResource } from "../types.js";
import { LABEL_KEY, LABEL_STACK, LABEL_STACK_ID, lastSegment, parseOwnershipNote, type GcpKindEnv } from "./shared.js";
import { SERVICE_PEERING } from "./service-connection.js";

type Ref = { type: string; id: string };

/** Pages through a list call until it has no next page. */
async function all<T>(page: (pageToken?: string) => Promise<{ items?: T[] | null; nextPageToken?: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const res = await page(token);
    out.push(...(res.items ?? []));
    token = res.nextPageToken ?? undefined;
  } while (token);
  return out;
}

/** Every object of `stack` the provider can find, with what each one uses. */
export async function findTaggedGcp(env: GcpKindEnv, stack: string): Promise<TaggedResource[]> {
  const { compute, sql, vpcaccess, iam, networking, crm } = env.clients;
  const project = env.project;
  const prefix = `pilot-${stack}-`;
  const found: TaggedResource[] = [];
  const labelled = (labels: Record<string, string> | null | undefined) => labels?.[LABEL_STACK] === stack;
  const noted = (name: string | null | undefined, description: string | null | undefined) => {
    const note = parseOwnershipNote(description);
    return name?.startsWith(prefix) && note?.[LABEL_STACK] === stack ? note : undefined;
  };
  const add = (type: string, id: string, labels: Record<string, string> | undefined, uses: Ref[]) =>
    found.push({ type, id, lineage: labels?.[LABEL_STACK_ID], key: labels?.[LABEL_KEY], uses });
  const net = (url: string | null | undefined): Ref[] => (url ? [{ type: "gcp.compute.network", id: lastSegment(url) }] : []);

  const [networks, subnets, firewalls, addresses, ranges, instances, sqlInstances, connectors, accounts] = await Promise.all([
    all((pageToken) => compute.networks.list({ project, pageToken }).then((r) => r.data)),
    all((pageToken) => compute.subnetworks.list({ project, region: env.region, pageToken }).then((r) => r.data)),
    all((pageToken) => compute.firewalls.list({ project, pageToken }).then((r) => r.data)),
    all((pageToken) => compute.addresses.list({ project, region: env.region, pageToken }).then((r) => r.data)),
    all((pageToken) => compute.globalAddresses.list({ project, pageToken }).then((r) => r.data)),
    all((pageToken) => compute.instances.list({ project, zone: env.zone, pageToken }).then((r) => r.data)),
    all((pageToken) => sql.instances.list({ project, pageToken }).then((r) => r.data)),
    all((pageToken) =>
      vpcaccess.projects.locations.connectors.list({ parent: `projects/${project}/locations/${env.region}`, pageToken }).then((r) => ({ items: r.data.connectors, nextPageToken: r.data.nextPageToken })),
    ),
    all((pageToken) => iam.projects.serviceAccounts.list({ name: `projects/${project}`, pageToken }).then((r) => ({ items: r.data.accounts, nextPageToken: r.data.nextPageToken }))),
  ]);

  const ourNetworks: string[] = [];
  for (const n of networks) {
    const note = noted(n.name, n.description);
    if (!note) continue;
    ourNetworks.push(n.name!);
    add("gcp.compute.network", n.name!, note, []);
  }
  for (const s of subnets) {
    const note = noted(s.name, s.description);
    if (note) add("gcp.compute.subnetwork", s.name!, note, net(s.network));
  }
  for (const f of firewalls) {
    const note = noted(f.name, f.description);
    if (note) add("gcp.compute.firewall", f.name!, note, net(f.network));
  }
  for (const a of addresses) if (labelled(a.labels)) add("gcp.compute.address", a.name!, a.labels!, []);
  for (const a of ranges) if (labelled(a.labels)) add("gcp.compute.global-address", a.name!, a.labels!, net(a.network));

  // One Service Networking connection per network: those on the stack's networks are the stack's.
  const number = ourNetworks.length > 0 ? await env.projectNumber() : "";
  for (const name of ourNetworks) {
    const res = await networking.services.connections.list({ parent: "services/servicenetworking.googleapis.com", network: `projects/${number}/global/networks/${name}` });
    for (const c of res.data.connections ?? []) {
      if (c.peering !== SERVICE_PEERING && c.service !== "services/servicenetworking.googleapis.com") continue;
      const usesRanges = (c.reservedPeeringRanges ?? []).map((id) => ({ type: "gcp.compute.global-address", id }));
      found.push({ type: "gcp.servicenetworking.connection", id: name, uses: [...net(name), ...usesRanges] });
    }
  }

  for (const i of sqlInstances) {
    const labels = i.settings?.userLabels ?? undefined;
    if (!labelled(labels)) continue;
    const network = i.settings?.ipConfiguration?.privateNetwork;
    // Its private address comes through the connection: the instance goes first.
    add("gcp.sql.instance", i.name!, labels!, network ? [...net(network), { type: "gcp.servicenetworking.connection", id: lastSegment(network) }] : []);
  }
  const connectorPrefix = `pilot-${stack.slice(0, 10)}-`;
  for (const c of connectors) {
    if (lastSegment(c.name).startsWith(connectorPrefix) && ourNetworks.includes(c.network ?? "")) {
      found.push({ type: "gcp.vpcaccess.connector", id: c.name!, uses: net(c.network) });
    }
  }

  // The server's "pilot-<stack15>-<lineage8>" and the apps' "pilot-<stack10>-<lineage8>-run" share this prefix; the note decides.
  const accountPrefix = `pilot-${stack.slice(0, 10)}-`;
  const ourAccounts = accounts.filter((a) => a.email?.startsWith(accountPrefix) && parseOwnershipNote(a.description)?.[LABEL_STACK] === stack);
  for (const a of ourAccounts) add("gcp.iam.service-account", a.email!, parseOwnershipNote(a.description), []);
  if (ourAccounts.length > 0) {
    const policy = (await crm.projects.getIamPolicy({ resource: project, requestBody: { options: { requestedPolicyVersion: 3 } } })).data;
    for (const a of ourAccounts) {
      const member = `serviceAccount:${a.email}`;
      if ((policy.bindings ?? []).some((b) => b.members?.includes(member))) {
        found.push({ type: "gcp.iam.project-roles", id: member, uses: [{ type: "gcp.iam.service-account", id: a.email! }] });
      }
    }
  }

  for (const i of instances) {
    if (!labelled(i.labels)) continue;
    const nic = i.networkInterfaces?.[0];
    const uses: Ref[] = [];
    if (nic?.subnetwork) uses.push({ type: "gcp.compute.subnetwork", id: lastSegment(nic.subnetwork) });
    const natIp = nic?.accessConfigs?.[0]?.natIP;
    const address = natIp ? addresses.find((a) => a.address === natIp && labelled(a.labels)) : undefined;
    if (address) uses.push({ type: "gcp.compute.address", id: address.name! });
    const sa = i.serviceAccounts?.[0]?.email;
    if (sa && ourAccounts.some((a) => a.email === sa)) uses.push({ type: "gcp.iam.service-account", id: sa });
    add("gcp.compute.instance", i.name!, i.labels!, uses);
  }
  return found;
}
