#!/usr/bin/env node
import { serveSource } from "@flow/sdk";
import { generatorSource } from "./generator-source";

void serveSource(generatorSource);
