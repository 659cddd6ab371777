#!/usr/bin/env node
import { join } from "node:path";
import { serveConsumer } from "@flow/sdk";
import { fileConsumer } from "./file-consumer";
import { ConsumerServiceService } from "./gen/consumer_service/v1/consumer";

serveConsumer(fileConsumer, { service: ConsumerServiceService, packageDir: join(__dirname, "..") }).catch(
  (error: Error) => {
    process.stderr.write(`flow-consumer-file: ${error.message}\n`);
    process.exit(1);
  },
);
