#!/usr/bin/env node
import { serveConsumer } from "@flow/sdk";
import { mysqlConsumer } from "./mysql-consumer";

// Prints the handshake line Flow Core reads, serves health and reflection, stops on SIGTERM. The
// SDK finds this package (package.json, proto/) and its generated ConsumerService in src/gen.
void serveConsumer(mysqlConsumer);
