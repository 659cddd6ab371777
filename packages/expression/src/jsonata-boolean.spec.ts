import jsonata from "jsonata";
import { jsonataBoolean } from "./jsonata-boolean";

describe("jsonataBoolean", () => {
  it("agrees with JSONata's own $boolean", async () => {
    const samples: unknown[] = [
      undefined,
      null,
      true,
      false,
      "",
      "a",
      0,
      0.5,
      -1,
      [],
      [0],
      [0, 1],
      [[]],
      {},
      { a: 0 },
      ["", false],
    ];
    const expected = await Promise.all(
      samples.map((value) => jsonata("$boolean($v)").evaluate({}, { v: value })),
    );
    expect(samples.map(jsonataBoolean)).toEqual(expected.map((value) => value ?? false));
  });

  it("treats JSONata functions as false, like $boolean", async () => {
    expect(jsonataBoolean(await jsonata("function($x) { $x }").evaluate({}))).toBe(false);
    expect(jsonataBoolean(await jsonata("$string").evaluate({}))).toBe(false);
  });
});
