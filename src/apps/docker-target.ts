/**
 * What Waypoint's docker platform leaves to Pilot (issue notes from a real
 * deployment): it has no releaser, so the app's URL is found here; `up`
 * leaves the replaced deployment's container running, so Pilot prunes it;
 * and `waypoint destroy` leaves the app's image and scratch volume.
 *
 * The app's containers carry the `pilot.app=PROJECT/APP` label that the
 * generated waypoint.hcl gives them (Waypoint's own labels name the app
 * but not its project).
 */
import type { ServerSession } from "./server-session.js";

export const APP_LABEL = "pilot.app";

interface Container {
  id: string;
  created: string;
  state: string;
}

/** The app's containers, newest first. */
export async function appContainers(session: ServerSession, key: string): Promise<Container[]> {
  const r = await session.docker(["ps", "-a", "--no-trunc", "--filter", `label=${APP_LABEL}=${key}`, "--format", "{{.ID}}\t{{.CreatedAt}}\t{{.State}}"]);
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [id, created, state] = l.split("\t");
      return { id: id!, created: created ?? "", state: state ?? "" };
    })
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}

/**
 * The URL of the app's newest running container: its service port as
 * published on the server host (on loopback for the local provider; on a VM,
 * reachable only as far as the firewall lets it).
 */
export async function appUrl(session: ServerSession, key: string, port: number): Promise<string | undefined> {
  const running = (await appContainers(session, key)).find((c) => c.state === "running");
  if (!running) return undefined;
  const r = await session.docker(["port", running.id, `${port}/tcp`]);
  const first = r.stdout.split("\n").find((l) => /:\d+$/.test(l.trim()));
  if (r.code !== 0 || !first) return undefined;
  const hostPort = first.trim().split(":").pop();
  const host = session.target === "local" ? "127.0.0.1" : session.access.publicAddress;
  return `http://${host}:${hostPort}`;
}

/** Removes every container of the app but the newest (with anonymous volumes); returns how many went. */
export async function pruneReplaced(session: ServerSession, key: string): Promise<number> {
  const old = (await appContainers(session, key)).slice(1);
  if (old.length === 0) return 0;
  await session.docker(["rm", "-f", "-v", ...old.map((c) => c.id)]);
  return old.length;
}

/**
 * After `waypoint destroy`: the app's remaining containers, and — unless
 * another app of the same name (in another project) shares them, since
 * Waypoint names them by app alone — its built image and scratch volume.
 */
export async function removeAppLeftovers(session: ServerSession, key: string, app: string, shared: boolean): Promise<string[]> {
  const removed: string[] = [];
  const containers = await appContainers(session, key);
  if (containers.length) {
    await session.docker(["rm", "-f", "-v", ...containers.map((c) => c.id)]);
    removed.push(...containers.map((c) => `container ${c.id.slice(0, 12)}`));
  }
  if (shared) return removed;
  const images = await session.docker(["images", "-q", `waypoint.local/${app}`]);
  const ids = [...new Set(images.stdout.split("\n").filter(Boolean))];
  if (ids.length && (await session.docker(["rmi", "-f", ...ids])).code === 0) removed.push(`image waypoint.local/${app}`);
  const volume = `${app}-scratch`;
  if ((await session.docker(["volume", "rm", volume])).code === 0) removed.push(`volume ${volume}`);
  return removed;
}
