import { allowedDeadLetters, describeDeadLetterAllowance } from "./dead-letter-allowance";

describe("allowedDeadLetters", () => {
  it("allows none when deadLetters.allow is left out", () => {
    expect(allowedDeadLetters(undefined, 20_000)).toBe(0);
    expect(describeDeadLetterAllowance(undefined, 20_000)).toBe("0 (deadLetters.allow not set)");
  });

  it("takes a count as it is, whatever was read", () => {
    expect(allowedDeadLetters({ count: 100 }, 0)).toBe(100);
    expect(describeDeadLetterAllowance({ count: 100 }, 5)).toBe("100");
  });

  it("takes a percentage of the events read, rounded down", () => {
    expect(allowedDeadLetters({ percent: 1 }, 20_000)).toBe(200);
    expect(allowedDeadLetters({ percent: 1 }, 150)).toBe(1);
    expect(allowedDeadLetters({ percent: 1 }, 99)).toBe(0);
    expect(allowedDeadLetters({ percent: 100 }, 2000)).toBe(2000);
    expect(describeDeadLetterAllowance({ percent: 1.5 }, 1000)).toBe("1.5% of 1000 read = 15");
  });
});
