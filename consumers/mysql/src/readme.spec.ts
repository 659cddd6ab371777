import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readmeJsonSchema } from "@flow/testing";
import { mysqlConsumerConfigSchema } from "./mysql-consumer-config";

const packageDir = join(__dirname, "..");

// The README is where pipeline authors read the configuration; it must not drift from the code.
it("shows in its README the JSON Schema the service validates configurations with", () => {
  expect(readmeJsonSchema(packageDir)).toEqual(mysqlConsumerConfigSchema);
});

it("has a row in its configuration table for every property of the schema, and no other", () => {
  const table = /## Configuration\n([\s\S]*?)\n\n/.exec(
    readFileSync(join(packageDir, "README.md"), "utf8"),
  )?.[1];
  const fields = [...(table ?? "").matchAll(/^\| `(\w+)`/gm)].map((match) => match[1]);
  expect(fields).toEqual(Object.keys(mysqlConsumerConfigSchema.properties as object));
});
