import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileConsumerConfigSchema } from "./file-consumer-config";

// The README is where pipeline authors read the configuration; it must not drift from the code.
it("shows in its README the JSON Schema the service validates configurations with", () => {
  const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
  const block = /### JSON Schema\s+```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  expect(JSON.parse(block ?? "null")).toEqual(fileConsumerConfigSchema);
});
