#!/usr/bin/env node
import { join } from "node:path";
import { serveSource } from "@flow/sdk";
import { fileSource } from "./file-source";
import { SourceServiceService } from "./gen/source_service/v1/source";

serveSource(fileSource, { service: SourceServiceService, packageDir: join(__dirname, "..") }).catch(
  (error: Error) => {
    process.stderr.write(`flow-source-file: ${error.message}\n`);
    process.exit(1);
  },
);
