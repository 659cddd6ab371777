import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { regenerateCode } from "./package-generate";

describe("regenerateCode", () => {
  let root: string;
  const path = process.env.PATH;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "flow-generate-"));
  });
  afterEach(() => {
    process.env.PATH = path;
    rmSync(root, { recursive: true, force: true });
  });

  it("runs the repository's own pinned package manager when PATH has none", () => {
    writeFileSync(join(root, "package.json"), JSON.stringify({ packageManager: "pnpm@10.34.9" }));
    mkdirSync(join(root, "node_modules", ".bin"), { recursive: true });
    // The repository's pnpm, as `pnpm install` links a pinned dev dependency: it records its arguments.
    const pnpm = join(root, "node_modules", ".bin", "pnpm");
    writeFileSync(pnpm, `#!/bin/sh\necho "$@" > ran.txt\n`);
    chmodSync(pnpm, 0o755);
    mkdirSync(join(root, "svc"));
    writeFileSync(
      join(root, "svc", "package.json"),
      JSON.stringify({ scripts: { generate: "buf generate" } }),
    );
    process.env.PATH = "/usr/bin:/bin";

    expect(regenerateCode(root, "svc")).toEqual({ dir: "svc", command: "npx pnpm run generate" });
    expect(readFileSync(join(root, "svc", "ran.txt"), "utf8")).toBe("run generate\n");
  });
});
