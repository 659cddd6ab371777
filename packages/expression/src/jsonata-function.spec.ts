import jsonata from "jsonata";
import { isJsonataFunction } from "./jsonata-function";

describe("isJsonataFunction", () => {
  it("recognises JSONata's lambdas and bound native functions, and nothing that is data", async () => {
    expect(isJsonataFunction(await jsonata("function($x) { $x }").evaluate({}))).toBe(true);
    expect(isJsonataFunction(await jsonata("$string").evaluate({}))).toBe(true);
    expect(isJsonataFunction(() => 1)).toBe(true);
    for (const data of [null, undefined, 0, "f", [], {}, { _jsonata_lambda: "yes" }]) {
      expect(isJsonataFunction(data)).toBe(false);
    }
  });
});
