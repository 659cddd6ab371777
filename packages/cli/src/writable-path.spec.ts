import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { whyNotWritable } from "./writable-path";

describe("whyNotWritable", () => {
  const dir = mkdtempSync(join(tmpdir(), "flow-cli-writable-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts a file that does not exist yet in a folder that does not either, and creates nothing", () => {
    expect(whyNotWritable(join(dir, "a", "b", "dead.jsonl"))).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("accepts an existing file and leaves it as it was", () => {
    const file = join(dir, "kept.jsonl");
    writeFileSync(file, "line\n");
    expect(whyNotWritable(file)).toBeUndefined();
    expect(readdirSync(dir)).toEqual(["kept.jsonl"]);
    rmSync(file);
  });

  it("names the file that stands where a folder should be", () => {
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, "");
    expect(whyNotWritable(join(file, "sub", "dead.jsonl"))).toBe(`${file} is a file, not a folder`);
    rmSync(file);
  });

  it("refuses a folder where the file should be", () => {
    const folder = join(dir, "dead.jsonl");
    mkdirSync(folder);
    expect(whyNotWritable(folder)).toBe("it is a folder, not a file");
    rmSync(folder, { recursive: true });
  });

  it("refuses /proc, where no file can be created (tried, not guessed from permission bits)", () => {
    expect(whyNotWritable("/proc/flow-dead-letters/dead.jsonl")).toMatch(/^cannot create files in \/proc: /);
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? it.skip : it)(
    "refuses a folder without write permission (not as root, who may write anyway)",
    () => {
      const locked = join(dir, "locked");
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      try {
        expect(whyNotWritable(join(locked, "dead.jsonl"))).toMatch(
          /^cannot create files in .*locked: permission denied \(EACCES\)$/,
        );
      } finally {
        chmodSync(locked, 0o755);
        rmSync(locked, { recursive: true });
      }
    },
  );
});
