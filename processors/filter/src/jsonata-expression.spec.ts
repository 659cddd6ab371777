import jsonata from "jsonata";
import { compileExpression, jsonataBoolean } from "./jsonata-expression";

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

describe("compileExpression", () => {
  it("points at the offending token", () => {
    const { issues } = compileExpression("foo bar", "/expression", { timeoutMs: 100 });
    expect(issues).toEqual([
      expect.objectContaining({
        path: "/expression",
        message: 'JSONata syntax error at line 1, column 5 (position 7): Syntax error: "bar" [S0201]',
      }),
    ]);
  });

  it("points at the end of an expression that stops too early", () => {
    const { issues } = compileExpression("a and", "/x", { timeoutMs: 100 });
    expect(issues[0]?.message).toMatch(
      /^JSONata syntax error at line 1, column 6 \(position 5\): Unexpected end of expression/,
    );
  });
});
