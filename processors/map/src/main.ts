#!/usr/bin/env node
import { serveProcessor } from "@flow/sdk";
import { mapProcessor } from "./map-processor";

void serveProcessor(mapProcessor);
