import { backoffDelayMs } from "./backoff-delay";

describe("backoffDelayMs", () => {
  const bounds = { initialDelayMs: 100, maxDelayMs: 1000 };

  it("doubles from the initial delay", () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, bounds))).toEqual([100, 200, 400, 800]);
  });

  it("never goes above the ceiling, however many attempts", () => {
    expect(backoffDelayMs(5, bounds)).toBe(1000);
    expect(backoffDelayMs(5000, bounds)).toBe(1000);
  });

  it("treats attempt 0 like the first", () => {
    expect(backoffDelayMs(0, bounds)).toBe(100);
  });
});
