import { parseJsonPath, selectJsonPath } from "./json-path";

const output = [
  { id: "1", type: "order", data: { total: 150, lines: [{ sku: "a" }, { sku: "b" }] } },
  { id: "2", type: "order", data: { total: 20, lines: [] } },
];

describe("the JSONPath subset of test expectations", () => {
  it.each([
    ["$[0].data.total", [150]],
    ["$[-1].id", ["2"]],
    ["$[0]['data'][\"total\"]", [150]],
    ["$[*].id", ["1", "2"]],
    ["$.*.type", ["order", "order"]],
    ["$..sku", ["a", "b"]],
    ["$[5].id", []],
    ["$[0].missing", []],
  ])("%s selects %j", (text, expected) => {
    expect(selectJsonPath(parseJsonPath(text), output)).toEqual(expected);
  });

  it("knows which paths select at most one value", () => {
    expect(parseJsonPath("$[0].data.total").singular).toBe(true);
    expect(parseJsonPath("$[*].id").singular).toBe(false);
    expect(parseJsonPath("$..sku").singular).toBe(false);
  });

  it("refuses what it does not support, with the position", () => {
    expect(() => parseJsonPath("$[?(@.total > 1)]")).toThrow(
      'JSONPath "$[?(@.total > 1)]": "[?(@.total > 1)]" is not an index, a quoted name or * (filters and slices are not supported) at position 2',
    );
    expect(() => parseJsonPath("data.total")).toThrow('must start with "$"');
    expect(() => parseJsonPath("$[0")).toThrow('"[" without "]" at position 2');
  });
});
