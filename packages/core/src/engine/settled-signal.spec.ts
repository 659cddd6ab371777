import { SettledSignal } from "./settled-signal";
import { settle } from "./test-support/fake-link-stream";

describe("SettledSignal", () => {
  it("resolves at once when the condition already holds", async () => {
    await expect(new SettledSignal().until(() => true)).resolves.toBeUndefined();
  });

  it("looks again after every notice, and resolves once the condition holds", async () => {
    const signal = new SettledSignal();
    let inFlight = 2;
    let looks = 0;
    let done = false;
    void signal
      .until(() => {
        looks += 1;
        return inFlight === 0;
      })
      .then(() => {
        done = true;
      });
    inFlight = 1;
    signal.notify();
    await settle();
    expect(done).toBe(false);
    inFlight = 0;
    await settle();
    // Nothing said that something moved: the waiter has not looked again.
    expect([done, looks]).toEqual([false, 2]);
    signal.notify();
    await settle();
    expect([done, looks]).toEqual([true, 3]);
  });

  it("wakes every waiter, each on its own condition", async () => {
    const signal = new SettledSignal();
    const ready = new Set<string>();
    const finished: string[] = [];
    for (const name of ["reload", "recovery a", "recovery b"])
      void signal.until(() => ready.has(name)).then(() => finished.push(name));
    ready.add("recovery b");
    ready.add("reload");
    signal.notify();
    await settle();
    expect(finished.sort()).toEqual(["recovery b", "reload"]);
  });
});
