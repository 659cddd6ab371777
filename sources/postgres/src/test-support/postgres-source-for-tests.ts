import { join } from "node:path";
import { type FlowEvent, serveSource } from "@flow/sdk";
import {
  type SourceReadOptions,
  SourceReadStream,
  serveForTests,
  validateOnly as validate,
} from "@flow/testing";
import { SourceServiceClient, SourceServiceService } from "../gen/source_service/v1/source";
import { postgresSource } from "../postgres-source";

type Served = { readonly client: SourceServiceClient };

/** The source served in this test file's process on a free port, with a client of the generated code. */
export function servePostgresSource(): Served {
  return serveForTests(
    serveSource,
    postgresSource,
    { service: SourceServiceService, packageDir: join(__dirname, "..", "..") },
    SourceServiceClient,
  );
}

/** One Read stream of the served source, driven as Core drives it. */
export const readStream = (served: Served, config: object, options: SourceReadOptions = {}) =>
  new SourceReadStream(served.client, config, { stageId: "postgres-test", ...options });

/** Configure with validate_only, as `flow validate` calls it. */
export const validateOnly = (served: Served, config: object) =>
  validate(served.client, config, "postgres-test");

/** The JSON payload of an event. */
export const payload = (event: FlowEvent): Record<string, unknown> => JSON.parse(event.data.toString("utf8"));
