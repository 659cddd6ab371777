#!/usr/bin/env node
// The README's first command ends here: run the quickstart pipeline, then say where its output is
// and how to look at it.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const run = spawnSync(
  process.execPath,
  // The flags the flow bin starts with (its shebang; see @flow/sdk STEADY_LATENCY_NODE_FLAGS).
  ["--min-semi-space-size=16", join(root, "packages/cli/dist/bin.js"), "run", "examples/quickstart.yaml"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
if (run.status !== 0) process.exit(run.status ?? 1);
const output = "examples/.flow/quickstart.db";
console.log(`\nThe big orders are in ${output} (table "orders").`);
console.log(`Look at them:  node scripts/show-table.mjs ${output} orders`);
console.log("Run history:   npx flow status examples/quickstart.yaml");
