import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readmeJsonSchema } from "./readme-json-schema";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-readme-schema-"));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("readmeJsonSchema", () => {
  it("parses the json block under the README's JSON Schema heading", () => {
    writeFileSync(
      join(dir, "README.md"),
      '# x\n\n```json\n{"not": "this"}\n```\n\n### JSON Schema\n\n```json\n{ "type": "object" }\n```\n',
    );
    expect(readmeJsonSchema(dir)).toEqual({ type: "object" });
  });

  it("says which README has no such section", () => {
    writeFileSync(join(dir, "README.md"), "# x\n");
    expect(() => readmeJsonSchema(dir)).toThrow(`${join(dir, "README.md")} has no "### JSON Schema" section`);
  });
});
