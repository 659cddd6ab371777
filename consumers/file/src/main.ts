#!/usr/bin/env node
import { serveConsumer } from "@flow/sdk";
import { fileConsumer } from "./file-consumer";

void serveConsumer(fileConsumer);
