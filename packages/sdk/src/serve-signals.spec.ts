import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const packageDir = join(__dirname, "..");
const fixture = join(__dirname, "test-support", "fixtures", "echo-processor.js");

/** Starts the fixture service and sends SIGTERM the moment its handshake line arrives. */
function terminatedOnHandshake(): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}> {
  const child = spawn(process.execPath, [fixture], { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", () => child.kill("SIGTERM"));
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr })));
}

describe("a service told to stop the moment it announces itself", () => {
  it("drains and exits 0 every time: its signal handlers are in place before the handshake line", async () => {
    if (!existsSync(join(packageDir, "dist", "index.js")))
      throw new Error("build @flow/sdk first: the fixture runs dist/");
    // Before the fix, a SIGTERM right after the handshake often met no handler yet and killed the
    // process; several starts at once make that window show.
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => terminatedOnHandshake()));
    for (const outcome of outcomes) {
      expect({ code: outcome.code, signal: outcome.signal }).toEqual({ code: 0, signal: null });
      expect(outcome.stderr).toContain("stopping: finishing in-flight work");
    }
  });
});
