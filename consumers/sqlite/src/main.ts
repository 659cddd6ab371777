#!/usr/bin/env node
import { serveConsumer } from "@flow/sdk";
import { sqliteConsumer } from "./sqlite-consumer";

void serveConsumer(sqliteConsumer);
