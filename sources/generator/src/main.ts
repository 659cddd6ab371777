#!/usr/bin/env node
import { join } from "node:path";
import { serveSource } from "@flow/sdk";
import { SourceServiceService } from "./gen/source_service/v1/source";
import { generatorSource } from "./generator-source";

serveSource(generatorSource, { service: SourceServiceService, packageDir: join(__dirname, "..") }).catch(
  (error: Error) => {
    process.stderr.write(`flow-source-generator: ${error.message}\n`);
    process.exit(1);
  },
);
