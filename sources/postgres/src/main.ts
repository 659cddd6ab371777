#!/usr/bin/env node
import { serveSource } from "@flow/sdk";
import { postgresSource } from "./postgres-source";

// Prints the handshake line Flow Core reads, serves health and reflection, stops on SIGTERM. The
// SDK finds this package (package.json, proto/) and its generated SourceService in src/gen.
void serveSource(postgresSource);
