#!/usr/bin/env node
import { join } from "node:path";
import { serveProcessor } from "@flow/sdk";
import { filterProcessor } from "./filter-processor";
import { ProcessorServiceService } from "./gen/processor_service/v1/processor";

serveProcessor(filterProcessor, {
  service: ProcessorServiceService,
  packageDir: join(__dirname, ".."),
}).catch((error: Error) => {
  process.stderr.write(`flow-processor-filter: ${error.message}\n`);
  process.exit(1);
});
