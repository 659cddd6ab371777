import { parseJsonPath, selectJsonPath } from "./json-path";

const output = [
  { id: "1", type: "order", data: { total: 150, lines: [{ sku: "a" }, { sku: "b" }] } },
  { id: "2", type: "order", data: { total: 20, lines: [] } },
];

describe("the JSONPath (RFC 9535) of test expectations", () => {
  it.each([
    ["$[0].data.total", [150]],
    ["$[-1].id", ["2"]],
    ["$[0]['data'][\"total\"]", [150]],
    ["$[*].id", ["1", "2"]],
    ["$.*.type", ["order", "order"]],
    ["$..sku", ["a", "b"]],
    ["$[5].id", []],
    ["$[0].missing", []],
    ["$[?@.data.total > 100].id", ["1"]],
    ["$[0].data.lines[1:].sku", ["b"]],
  ])("%s selects %j", (text, expected) => {
    expect(selectJsonPath(parseJsonPath(text), output)).toEqual(expected);
  });

  it("knows which paths select at most one value", () => {
    expect(parseJsonPath("$[0].data.total").singular).toBe(true);
    expect(parseJsonPath("$[*].id").singular).toBe(false);
    expect(parseJsonPath("$..sku").singular).toBe(false);
  });

  it("knows a filter or a slice can select several values", () => {
    expect(parseJsonPath("$[?@.total > 1]").singular).toBe(false);
    expect(parseJsonPath("$[0:1]").singular).toBe(false);
    expect(parseJsonPath("$['data'][0]").singular).toBe(true);
  });

  it("refuses what is not JSONPath, saying why", () => {
    expect(() => parseJsonPath("data.total")).toThrow(
      /^JSONPath "data.total" is not valid RFC 9535 JSONPath: /,
    );
    expect(() => parseJsonPath("$[0")).toThrow(/^JSONPath "\$\[0" is not valid RFC 9535 JSONPath: Expected/);
  });
});
