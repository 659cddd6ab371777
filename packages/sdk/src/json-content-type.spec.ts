import { isJsonContentType } from "./json-content-type";

describe("isJsonContentType", () => {
  it("accepts the JSON media types, with parameters and in any case, and an absent content type", () => {
    for (const type of [
      "",
      "application/json",
      "Application/JSON; charset=utf-8",
      "text/json",
      "application/cloudevents+json",
    ])
      expect(isJsonContentType(type)).toBe(true);
  });

  it("rejects other media types", () => {
    for (const type of [
      "text/plain",
      "application/octet-stream",
      "application/jsonl",
      "application/json-seq",
    ])
      expect(isJsonContentType(type)).toBe(false);
  });
});
