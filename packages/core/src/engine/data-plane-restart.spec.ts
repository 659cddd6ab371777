import { DataPlaneRestart } from "./data-plane-restart";
import { silentLogger } from "./test-support/fake-link-stream";

function restartOf(linkCount: number) {
  const calls: string[] = [];
  const links = Array.from({ length: linkCount }, (_, index) => ({
    reset: () => calls.push(`link ${index} reset`),
  }));
  const restart: DataPlaneRestart = new DataPlaneRestart({
    links: () => links,
    sources: {
      restartData: () => {
        calls.push("sources restart");
        // A source reopening may make a link report again at once: that is the same restart.
        restart.restart("reported again while restarting");
      },
    },
    logger: silentLogger,
  });
  return { restart, calls };
}

describe("DataPlaneRestart", () => {
  it("resets every link before the sources read again, and counts the restart", () => {
    const { restart, calls } = restartOf(2);
    restart.restart("consumer sink: the batch a reference named never arrived");
    expect(calls).toEqual(["link 0 reset", "link 1 reset", "sources restart"]);
    expect(restart.count).toBe(1);
  });

  it("takes a report made during the restart into that restart", () => {
    const { restart, calls } = restartOf(1);
    restart.restart("first");
    expect(calls).toEqual(["link 0 reset", "sources restart"]);
    expect(restart.count).toBe(1);
    restart.restart("a later loss");
    expect(restart.count).toBe(2);
  });
});
