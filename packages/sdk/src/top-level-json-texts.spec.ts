import { jsonMemberTexts, topLevelJsonTexts } from "./top-level-json-texts";

describe("topLevelJsonTexts", () => {
  it("gives each member of an object as written, whatever it holds", () => {
    const text = '{ "a" : 12345678901234567890 , "b":{"c":[1,{"d":"}"}]},"e":"x\\"y,z","f":12.50,"g":null}';
    expect(Object.fromEntries(jsonMemberTexts(text))).toEqual({
      a: "12345678901234567890",
      b: '{"c":[1,{"d":"}"}]}',
      e: '"x\\"y,z"',
      f: "12.50",
      g: "null",
    });
  });

  it("keeps the last of a repeated name, as JSON.parse does, escaped names included", () => {
    expect(jsonMemberTexts('{"data":1,"d\\u0061ta":[2]}').get("data")).toBe("[2]");
    expect(jsonMemberTexts("{}").size).toBe(0);
  });

  it("gives each element of an array as written", () => {
    expect(topLevelJsonTexts('[ {"n":1} , 98765432109876543210,"]" ]')).toEqual([
      { text: '{"n":1}' },
      { text: "98765432109876543210" },
      { text: '"]"' },
    ]);
    expect(topLevelJsonTexts("[]")).toEqual([]);
  });
});
