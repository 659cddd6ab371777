import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPackageVersion } from "./package-version";

describe("readPackageVersion", () => {
  it("reads the version of the package at the given folder, not the SDK's", () => {
    const dir = mkdtempSync(join(tmpdir(), "flow-package-version-"));
    try {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "x", version: "3.2.1-rc.1" }));
      expect(readPackageVersion(dir)).toBe("3.2.1-rc.1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
