import type { HealthStatus } from "@flow/sdk/internal";
import { StageServices } from "./stage-services";
import { planFrom, silentLogger } from "./test-support/fake-link-stream";

/** Services of a source and a consumer whose health answers come from `check` (nothing is started). */
function services(check: () => Promise<HealthStatus>) {
  return new StageServices({
    plan: planFrom(`
metadata: { name: t }
sources: [{ id: src, address: "127.0.0.1:1" }]
consumers: [{ id: sink, address: "127.0.0.1:2", inputs: [src] }]
`),
    logger: silentLogger,
    checkHealth: check,
  });
}

describe("StageServices.watchHealth", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("knows every stage's health before its first interval has passed, then polls on each interval", async () => {
    let checks = 0;
    const watched = services(async () => {
      checks += 1;
      return "serving";
    });
    const seen: string[] = [];
    const stop = watched.watchHealth(5000, (stageId, status) => seen.push(`${stageId} ${status}`));
    try {
      await jest.advanceTimersByTimeAsync(4999);
      expect(seen).toEqual(["src serving", "sink serving"]);
      await jest.advanceTimersByTimeAsync(1);
      expect(checks).toBe(4);
      expect(seen).toHaveLength(4);
    } finally {
      stop();
    }
  });

  it("drops an answer that comes once the watching has stopped", async () => {
    const answers: ((status: HealthStatus) => void)[] = [];
    const watched = services(() => new Promise((resolve) => answers.push(resolve)));
    const seen: string[] = [];
    const stop = watched.watchHealth(5000, (stageId, status) => seen.push(`${stageId} ${status}`));
    expect(answers).toHaveLength(2);
    answers[0]?.("serving");
    await jest.advanceTimersByTimeAsync(0);
    stop();
    answers[1]?.("not_serving");
    await jest.advanceTimersByTimeAsync(10_000);
    expect(seen).toEqual(["src serving"]);
    expect(answers).toHaveLength(2);
  });
});
