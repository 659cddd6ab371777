import { jsonMemberTexts } from "./json-member-texts";

describe("jsonMemberTexts", () => {
  it("gives each top-level member's value exactly as written, nested values and spacing included", () => {
    const text = '{ "a" : 12345678901234567890 , "data":{"data":[1.50, {"x":"}"}]},"s":"q\\"}", "n":null}';
    expect(Object.fromEntries(jsonMemberTexts(text))).toEqual({
      a: "12345678901234567890",
      data: '{"data":[1.50, {"x":"}"}]}',
      s: '"q\\"}"',
      n: "null",
    });
  });

  it("keeps the last of repeated names, as JSON.parse does, and decodes escaped names", () => {
    expect(jsonMemberTexts('{"data":1,"d\\u0061ta":[2]}').get("data")).toBe("[2]");
    expect(jsonMemberTexts("{}").size).toBe(0);
  });
});
