import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";
import { REPO_ROOT } from "../broker/broker-clients";
import { FLOW_BIN } from "../flow/flow-pipeline-run";

// `flow run` of a pipeline with an HTTP service, as a user runs it, in a fresh folder, for as long
// as the scenario needs it; the pipeline file names each service by `command:` (see NODE_FLAGS).

export const SOURCE_HTTP = join(REPO_ROOT, "sources", "http", "dist", "main.js");
export const CONSUMER_HTTP = join(REPO_ROOT, "consumers", "http", "dist", "main.js");
export const COUNTING_CONSUMER = join(
  __dirname,
  "..",
  "..",
  "dist",
  "flow-services",
  "counting-consumer-main.js",
);

/** A running `flow run`; its stderr lines are offered to `onLine` and kept (the last few) for errors. */
export class FlowHttpRun {
  private stderr = "";
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", resolve));
  }

  static start(yaml: (dir: string) => string): FlowHttpRun {
    const dir = mkdtempSync(join(tmpdir(), "flow-bench-http-"));
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, yaml(dir));
    const child = spawn(process.execPath, [...STEADY_LATENCY_NODE_FLAGS, FLOW_BIN, "run", file], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    return new FlowHttpRun(child, dir);
  }

  /** Resolves with the first stderr line (JSON) whose msg is `message`; rejects if flow exits first. */
  waitForLog(message: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.child.stderr as NodeJS.ReadableStream });
      lines.on("line", (line) => {
        this.stderr = `${this.stderr}${line}\n`.slice(-8000);
        if (!line.includes(`"msg":"${message}"`)) return;
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
      this.exited.then((code) => reject(new Error(`flow run exited ${code}: ${this.lastLines()}`)));
    });
  }

  lastLines(): string {
    return this.stderr.trim().split("\n").slice(-5).join(" | ");
  }

  /** Stops the run (SIGTERM: a drain) and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
