#!/usr/bin/env node
import { serveProcessor } from "@flow/sdk";
import { filterProcessor } from "./filter-processor";

void serveProcessor(filterProcessor);
