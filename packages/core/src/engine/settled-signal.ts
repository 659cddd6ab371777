import { EventEmitter, once } from "node:events";

/**
 * Wakes whoever waits on the sources (a reload's quiesce, a recovery) when something they look
 * at may have moved: a delivery settled, a commit ended, the run ended. Each waiter looks at its
 * own condition again; any number may wait at once.
 */
export class SettledSignal {
  private readonly changes = new EventEmitter();

  constructor() {
    this.changes.setMaxListeners(0);
  }

  notify(): void {
    this.changes.emit("settled");
  }

  /** Resolves once `ready` holds: looks now, and again after every notice. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) await once(this.changes, "settled");
  }
}
