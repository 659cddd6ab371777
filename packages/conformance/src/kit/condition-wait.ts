/**
 * Waits for a condition on what arrives (stream messages, pushed batches) instead of for a time:
 * whoever records an arrival calls `wake`, and each waiting condition is checked again.
 */
export class ConditionWait {
  private readonly waiters = new Set<() => void>();

  /** Something a condition may depend on changed: check every waiting one again. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Resolves true once `condition` holds, false when `over` says nothing more will come (checked
   * on each wake) or `timeoutMs` passes.
   */
  until(condition: () => boolean, timeoutMs: number, over: () => boolean = () => false): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) done(true);
        else if (over()) done(false);
      };
      const timer = setTimeout(() => done(condition()), timeoutMs);
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      this.waiters.add(check);
      check();
    });
  }
}
