import { compileExpression, mustCompile } from "./compile-expression";

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

  // Not in tail position: JSONata runs tail calls in a loop, which no depth limit needs to stop.
  it("stops recursion deeper than the limit", async () => {
    const { expression } = compileExpression(
      "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(n))",
      "/x",
      {
        timeoutMs: 5000,
        maxDepth: 50,
      },
    );
    await expect(expression?.evaluate({ n: 10 })).resolves.toBe(10);
    await expect(expression?.evaluate({ n: 1000 })).rejects.toMatchObject({ code: "D1011" });
  });
});

describe("mustCompile", () => {
  it("compiles a valid expression and throws the issue of an invalid one", async () => {
    await expect(mustCompile("a + 1", "/x", { timeoutMs: 100 }).evaluate({ a: 1 })).resolves.toBe(2);
    expect(() => mustCompile("(((", "/x", { timeoutMs: 100 })).toThrow(/^JSONata syntax error at line 1/);
  });
});
