import { DataPlaneRestart } from "./data-plane-restart";
import { settle, silentLogger } from "./test-support/fake-link-stream";

/** Links that record what the restart does to them; `recovering` ones settle when told. */
function restartOf(linkCount: number, recovering: number[] = []) {
  const calls: string[] = [];
  const recoveredNow: Array<() => void> = [];
  const links = Array.from({ length: linkCount }, (_, index) => ({
    suspend: () => calls.push(`link ${index} suspended`),
    recovered: () =>
      recovering.includes(index)
        ? new Promise<void>((resolve) =>
            recoveredNow.push(() => {
              calls.push(`link ${index} recovered`);
              resolve();
            }),
          )
        : Promise.resolve(),
    reset: () => calls.push(`link ${index} reset`),
  }));
  let reopened = 0;
  const restart: DataPlaneRestart = new DataPlaneRestart({
    links: () => links,
    sources: {
      restartData: (ready) => {
        calls.push("sources stopped");
        void ready.then(() => {
          calls.push("sources reopened");
          // A loss reported once the streams are fresh is a restart of its own.
          if (++reopened === 1) restart.restart("reported again once reopened");
        });
        // A report made while the restart waits is taken into it.
        restart.restart("reported again while restarting");
      },
    },
    logger: silentLogger,
  });
  return { restart, calls, recoveredNow };
}

describe("DataPlaneRestart", () => {
  it("suspends every link and stops the sources, then resets the links before the sources read again", async () => {
    const { restart, calls } = restartOf(2);
    restart.restart("consumer sink: the batch a reference named never arrived");
    expect(calls).toEqual(["link 0 suspended", "link 1 suspended", "sources stopped"]);
    expect(restart.count).toBe(1);
    await settle();
    expect(calls.slice(3, 6)).toEqual(["link 0 reset", "link 1 reset", "sources reopened"]);
    expect(restart.count).toBe(2);
  });

  it("waits for a service being restarted before any stream reopens", async () => {
    // The failing run this guards: an upstream reopened at once was named the old, hung process
    // as its peer, and the references it pushed there reached the new process without their bytes.
    const { restart, calls, recoveredNow } = restartOf(2, [1]);
    restart.restart("consumer sink: no answer within 300 ms");
    await settle();
    expect(calls).toEqual(["link 0 suspended", "link 1 suspended", "sources stopped"]);
    recoveredNow[0]?.();
    await settle();
    expect(calls.slice(3, 7)).toEqual([
      "link 1 recovered",
      "link 0 reset",
      "link 1 reset",
      "sources reopened",
    ]);
  });
});
