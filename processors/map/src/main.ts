#!/usr/bin/env node
import { join } from "node:path";
import { serveProcessor } from "@flow/sdk";
import { ProcessorServiceService } from "./gen/processor_service/v1/processor";
import { mapProcessor } from "./map-processor";

serveProcessor(mapProcessor, { service: ProcessorServiceService, packageDir: join(__dirname, "..") }).catch(
  (error: Error) => {
    process.stderr.write(`flow-processor-map: ${error.message}\n`);
    process.exit(1);
  },
);
