#!/usr/bin/env node
import { join } from "node:path";
import { serveConsumer } from "@flow/sdk";
import { ConsumerServiceService } from "./gen/consumer_service/v1/consumer";
import { sqliteConsumer } from "./sqlite-consumer";

serveConsumer(sqliteConsumer, { service: ConsumerServiceService, packageDir: join(__dirname, "..") }).catch(
  (error: Error) => {
    process.stderr.write(`flow-consumer-sqlite: ${error.message}\n`);
    process.exit(1);
  },
);
