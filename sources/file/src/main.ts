#!/usr/bin/env node
import { serveSource } from "@flow/sdk";
import { fileSource } from "./file-source";

void serveSource(fileSource);
