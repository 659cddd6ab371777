import { join } from "node:path";
import { readmeJsonSchema } from "@flow/testing";
import { httpConsumerConfigSchema } from "./http-consumer-config";

// The README is where pipeline authors read the configuration; it must not drift from the code.
it("shows in its README the JSON Schema the service validates configurations with", () => {
  expect(readmeJsonSchema(join(__dirname, ".."))).toEqual(httpConsumerConfigSchema);
});
