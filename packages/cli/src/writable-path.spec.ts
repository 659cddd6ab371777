import { spawnSync } from "node:child_process";
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

  it("refuses a folder without write permission", () => {
    const locked = join(dir, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    try {
      expect(whyNotWritableAsUser(join(locked, "dead.jsonl"))).toMatch(
        /^cannot create files in .*locked: permission denied \(EACCES\)$/,
      );
    } finally {
      chmodSync(locked, 0o755);
      rmSync(locked, { recursive: true });
    }
  });

  /**
   * Root may write anywhere whatever the permission bits (CI runs as root), so there the check
   * runs in a child process as the unprivileged user `nobody`, against the built module.
   */
  function whyNotWritableAsUser(path: string): string | undefined {
    if (process.getuid?.() !== 0) return whyNotWritable(path);
    chmodSync(dir, 0o755);
    const built = join(__dirname, "..", "dist", "writable-path.js");
    const child = spawnSync(
      process.execPath,
      [
        "-e",
        `process.stdout.write(String(require(${JSON.stringify(built)}).whyNotWritable(process.argv[1]) ?? ""))`,
        path,
      ],
      { uid: 65534, gid: 65534, encoding: "utf8" },
    );
    if (child.status !== 0) throw new Error(`the check as nobody failed: ${child.stderr}`);
    return child.stdout || undefined;
  }
});
