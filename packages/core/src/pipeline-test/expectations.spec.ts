import { checkExpectation, matchesPartially, type StageOutput } from "./expectations";

const at = { file: "t.test.yaml", line: 1, column: 1 };
const output: StageOutput = {
  events: [
    { specversion: "1.0", id: "1", source: "s", type: "order", data: { total: 150 } },
    { specversion: "1.0", id: "2", source: "s", type: "order", data: { total: 20 } },
  ],
  deadLetters: [
    { reason: "filter expression failed: the payload is text/plain, not JSON", event: { id: "3" } },
  ],
};
const expectation = (fields: object) => ({
  stage: "big",
  pointer: "/tests/0/expect/big",
  location: at,
  ...fields,
});

describe("expectations on a stage's output", () => {
  it("hold when the output matches", () => {
    expect(
      checkExpectation(
        expectation({
          count: 2,
          equal: output.events,
          contains: [{ data: { total: 20 } }],
          match: { "$[0].data.total": 150, "$[*].id": ["1", "2"] },
          deadLetters: [{ reason: "not JSON", event: { id: "3" } }],
        }),
        output,
      ),
    ).toEqual([]);
  });

  it("say what failed, with a diff of what the expectation names", () => {
    const failures = checkExpectation(
      expectation({
        count: 1,
        contains: [{ data: { total: 99 } }],
        match: { "$[0].data.total": 151, "$[7].id": "x" },
        deadLetters: [],
      }),
      output,
    );
    expect(failures.map((failure) => [failure.check, failure.message])).toEqual([
      ["count", "expected 1 event(s), got 2"],
      ["contains", 'no event matches contains[0]; the closest is event 1 (id "1")'],
      ["match", "$[0].data.total does not match"],
      ["match", "$[7].id selects nothing"],
      ["deadLetters", "expected 0 dead letter(s), got 1"],
    ]);
    expect(failures[1]?.diff).toBe(
      ["  {", '    "data": {', '-     "total": 99', '+     "total": 150', "    }", "  }"].join("\n"),
    );
    expect(failures[2]?.diff).toBe("- 151\n+ 150");
  });

  it("match partially: objects on the fields named, arrays whole", () => {
    expect(matchesPartially({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(matchesPartially({ a: [1, 2] }, { a: [1] })).toBe(false);
    expect(matchesPartially({ a: "1" }, { a: 1 })).toBe(false);
  });
});
