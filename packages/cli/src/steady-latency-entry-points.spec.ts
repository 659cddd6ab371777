import { readFileSync } from "node:fs";
import { join } from "node:path";
import { STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";

// Core's Node flags cannot go in NODE_OPTIONS, so every way of starting `flow` carries them on
// its command line; this keeps those command lines and the SDK's list from drifting apart.

const root = join(__dirname, "..", "..", "..");
const flags = STEADY_LATENCY_NODE_FLAGS.join(" ");

describe("the flow entry points start Node with the steady-latency flags", () => {
  it("the bin's shebang (what npm and pnpm shims run)", () => {
    const firstLine = readFileSync(join(__dirname, "bin.ts"), "utf8").split("\n")[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it("the repository's `pnpm flow` script and the quickstart", () => {
    const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
    expect(scripts.flow).toBe(`node ${flags} packages/cli/dist/bin.js`);
    const quickstart = readFileSync(join(root, "scripts", "quickstart.mjs"), "utf8");
    for (const flag of STEADY_LATENCY_NODE_FLAGS) expect(quickstart).toContain(`"${flag}"`);
  });
});
