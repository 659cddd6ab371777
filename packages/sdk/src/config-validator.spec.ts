import { SEVERITY } from "./component";
import { ConfigValidator } from "./config-validator";

describe("ConfigValidator", () => {
  it("compiles draft 2020-12 schemas, the draft the component contract names", () => {
    const validator = new ConfigValidator<{ pair: [string, number] }>({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }], items: false },
      },
    });
    expect(validator.check('{"pair":["a",1]}')).toEqual({ config: { pair: ["a", 1] }, issues: [] });
    expect(
      validator
        .check('{"pair":[1,"a",true]}')
        .issues.map((issue) => issue.path)
        .sort(),
    ).toEqual(["/pair", "/pair/0", "/pair/1"]);
  });

  it("still compiles a schema that names draft-07", () => {
    const validator = new ConfigValidator({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { n: { type: "integer", default: 3 } },
    });
    expect(validator.check("")).toEqual({ config: { n: 3 }, issues: [] });
  });

  it("checks formats (ajv-formats) and reports every error as an error", () => {
    const validator = new ConfigValidator({
      type: "object",
      properties: { url: { type: "string", format: "uri" }, at: { type: "string", format: "date-time" } },
    });
    const { config, issues } = validator.check('{"url":"not a uri","at":"yesterday"}');
    expect(config).toBeUndefined();
    expect(issues.map((issue) => [issue.path, issue.severity])).toEqual([
      ["/url", SEVERITY.error],
      ["/at", SEVERITY.error],
    ]);
  });
});
