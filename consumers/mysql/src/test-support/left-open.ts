import { AsyncLocalStorage, createHook } from "node:async_hooks";

/** What `body` (and all it calls, mysql2 included) left behind once it settled. */
export interface LeftOpen {
  /** Timers still pending. */
  timers: number;
  /** TCP sockets not closed. */
  sockets: number;
}

/** Turns of the event loop a closed handle needs before Node runs its destroy hook. */
const SETTLING_TURNS = 3;

/**
 * The timers and TCP sockets `body` created that are still open once it has settled, found by
 * async_hooks: jest's own timers, and sockets made outside `body` (a proxy's), come and go beside it.
 */
export async function leftOpenBy(body: () => Promise<void>): Promise<LeftOpen> {
  const scope = new AsyncLocalStorage<true>();
  const open = new Map<number, "timers" | "sockets">();
  const hook = createHook({
    init: (id, type) => {
      if (!scope.getStore()) return;
      if (type === "Timeout") open.set(id, "timers");
      else if (type === "TCPWRAP") open.set(id, "sockets");
    },
    destroy: (id) => open.delete(id),
  }).enable();
  try {
    await scope.run(true, body);
    // A cleared timer's destroy hook runs in the next check phase; a destroyed socket's once its
    // handle has closed (the close phase), in the check phase after that: a few turns, no clock.
    for (let turn = 0; turn < SETTLING_TURNS && open.size > 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const kinds = [...open.values()];
    return {
      timers: kinds.filter((kind) => kind === "timers").length,
      sockets: kinds.filter((kind) => kind === "sockets").length,
    };
  } finally {
    hook.disable();
  }
}
