/**
 * When things happen. Operations finish, instances go STAGING then RUNNING,
 * Cloud SQL goes RUNNABLE, at a time fixed when the call is made. Nothing
 * runs on a timer: every request (and every control read) first "settles"
 * the timeline, running each due event in time order. So the fake holds no
 * timers open, a test that never polls sees nothing change, and an event's
 * effects are visible to the first request at or after its time.
 */
export class Timeline {
  private events: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  constructor(readonly now: () => number = Date.now) {}

  /** Runs `run` at the first settle at or after `at`. */
  at(at: number, run: () => void): void {
    this.events.push({ at, seq: this.seq++, run });
  }

  /** Runs every due event, earliest first (an event may schedule more). */
  settle(): void {
    const now = this.now();
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.at > now) continue;
        if (best < 0 || e.at < this.events[best].at || (e.at === this.events[best].at && e.seq < this.events[best].seq)) best = i;
      }
      if (best < 0) return;
      const [e] = this.events.splice(best, 1);
      e.run();
    }
  }

  clear(): void {
    this.events = [];
  }

  get pending(): number {
    return this.events.length;
  }
}
