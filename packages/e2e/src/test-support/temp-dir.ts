import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh folder for one test, removed afterwards. */
export function tempDir(prefix: string): {
  path: string;
  file(name: string, text: string): string;
  remove(): void;
} {
  const path = mkdtempSync(join(tmpdir(), `flow-e2e-${prefix}-`));
  return {
    path,
    file(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
