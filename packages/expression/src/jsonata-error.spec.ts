import jsonata from "jsonata";
import { describeEvaluationError } from "./jsonata-error";

describe("describeEvaluationError", () => {
  it("gives JSONata's message with its code and position", async () => {
    const failure = await jsonata('$number("twelve")')
      .evaluate({})
      .catch((error: unknown) => error);
    expect(describeEvaluationError(failure)).toMatch(
      /^Unable to cast value to a number.* \[D3030 at position \d+\]$/,
    );
  });

  it("falls back to the message of an error that is not JSONata's", () => {
    expect(describeEvaluationError(new Error("the payload is text/plain, not JSON"))).toBe(
      "the payload is text/plain, not JSON",
    );
  });
});
