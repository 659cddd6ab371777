#!/usr/bin/env node
// Thin entry point: verify (--check) or refresh the vendored contract copies of every folder with a
// proto-pins.yaml, or of the folders named. The logic and its tests live in packages/prototools.
// Usage: node scripts/vendor.mjs [--check] [--force] [--upgrade] [--root DIR] [dirs...]
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const tools = require("../packages/prototools/dist/index.js");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    check: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    upgrade: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    root: { type: "string" },
  },
});

try {
  const result = tools.runVendorCommand({ ...values, dirs: positionals });
  process.exitCode = tools.reportVendorResult(result, values);
} catch (error) {
  if (tools.isUserError(error)) {
    console.error(tools.formatUserError(error));
    process.exit(error.exitCode);
  }
  throw error;
}
