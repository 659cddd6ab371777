import { diffableJson, lineDiff } from "./text-diff";

it("marks expected lines that are missing with - and produced lines with +", () => {
  expect(lineDiff(diffableJson({ a: 1, b: 2, c: 3 }), diffableJson({ a: 1, b: 5, c: 3 }))).toBe(
    ["  {", '    "a": 1,', '-   "b": 2,', '+   "b": 5,', '    "c": 3', "  }"].join("\n"),
  );
  expect(lineDiff("x\ny", "x\ny")).toBe("  x\n  y");
  expect(lineDiff("x", "x\nz")).toBe("  x\n+ z");
});
