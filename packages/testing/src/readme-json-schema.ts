import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The JSON Schema a package's README.md shows under its `### JSON Schema` heading, parsed: a
 * service test compares it with the schema the service validates configurations with, so the
 * README, where pipeline authors read the configuration, cannot drift from the code.
 */
export function readmeJsonSchema(packageDir: string): unknown {
  const path = join(packageDir, "README.md");
  const block = /### JSON Schema\s+```json\n([\s\S]*?)\n```/.exec(readFileSync(path, "utf8"))?.[1];
  if (block === undefined) throw new Error(`${path} has no "### JSON Schema" section with a json code block`);
  return JSON.parse(block);
}
