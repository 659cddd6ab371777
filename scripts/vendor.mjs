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
  for (const finding of result.findings) console.error(tools.formatFinding(finding));
  if (!values.quiet) for (const action of result.actions) console.log(tools.formatAction(action));
  if (result.findings.length > 0) {
    console.error(`vendor --check: ${result.findings.length} problem(s) in vendored contracts`);
    process.exit(1);
  }
  if (values.check && !values.quiet) console.log(`vendor --check: ${result.dirs.length} folder(s) match their locks`);
} catch (error) {
  if (tools.isUserError(error)) {
    console.error(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ""}`);
    process.exit(error.exitCode);
  }
  throw error;
}
