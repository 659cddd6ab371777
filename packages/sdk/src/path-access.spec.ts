import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canWrite, creatableFileIssues, statOrUndefined } from "./path-access";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flow-path-access-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("statOrUndefined and canWrite", () => {
  it("say what is at a path, and nothing for a missing path or one below a file", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    expect((await statOrUndefined(file))?.isFile()).toBe(true);
    expect(await statOrUndefined(join(dir, "missing"))).toBeUndefined();
    expect(await statOrUndefined(join(file, "below"))).toBeUndefined();
    expect(await canWrite(file)).toBe(true);
    expect(await canWrite(join(dir, "missing"))).toBe(false);
  });
});

describe("creatableFileIssues", () => {
  it("accepts a file in an existing folder, or below missing folders it may create", async () => {
    expect(await creatableFileIssues("/path", join(dir, "new.db"), false)).toEqual([]);
    expect(await creatableFileIssues("/path", join(dir, "x", "y", "new.db"), true)).toEqual([]);
  });

  it("reports a missing folder it may not create, and a file where a folder should be", async () => {
    const missing = join(dir, "missing", "new.db");
    expect(await creatableFileIssues("/out", missing, false)).toEqual([
      expect.objectContaining({
        path: "/out",
        message: `folder ${join(dir, "missing")} does not exist (or set createDirectories: true)`,
      }),
    ]);
    const blocker = join(dir, "blocker");
    writeFileSync(blocker, "");
    const under = join(blocker, "sub", "new.db");
    expect(await creatableFileIssues("/path", under, true)).toEqual([
      expect.objectContaining({
        path: "/path",
        message: `cannot create ${under}: ${blocker} is not a folder`,
      }),
    ]);
  });
});
