/**
 * Projects. Any project id is accepted (the fake has no account model); each
 * gets a stable 12-digit number derived from its id, and the registry maps
 * numbers back to ids, because Service Networking and Service Usage name a
 * project by number (`projects/123456789012/global/networks/n`) where
 * compute and Cloud SQL use its id.
 */
import { projectNumberOf } from "./ids.js";

export class Projects {
  private readonly byNumber = new Map<string, string>();

  constructor(readonly defaultProject: string) {
    this.register(defaultProject);
  }

  register(id: string): string {
    this.byNumber.set(projectNumberOf(id), id);
    return id;
  }

  numberOf(id: string): string {
    return projectNumberOf(id);
  }

  /** The project id for an id or a number; registers an id seen for the first time. */
  idOf(idOrNumber: string): string {
    if (/^\d+$/.test(idOrNumber)) return this.byNumber.get(idOrNumber) ?? idOrNumber;
    return this.register(idOrNumber);
  }

  /** Whether `s` is the number of a known project. */
  isKnownNumber(s: string): boolean {
    return this.byNumber.has(s);
  }

  ids(): string[] {
    return [...new Set(this.byNumber.values())];
  }
}
