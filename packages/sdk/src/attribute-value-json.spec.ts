import { attributeValueJson } from "./attribute-value-json";

describe("attributeValueJson", () => {
  it("writes binary values as base64, timestamps as RFC 3339 and the others as they are", () => {
    expect(attributeValueJson({ $case: "binaryValue", value: Buffer.from([1, 2]) })).toBe("AQI=");
    expect(attributeValueJson({ $case: "timestampValue", value: { seconds: 0n, nanos: 5 } })).toBe(
      "1970-01-01T00:00:00.000000005Z",
    );
    expect(attributeValueJson({ $case: "booleanValue", value: true })).toBe(true);
    expect(attributeValueJson({ $case: "integerValue", value: 7 })).toBe(7);
    expect(attributeValueJson({ $case: "uriValue", value: "https://example.com" })).toBe(
      "https://example.com",
    );
  });
});
