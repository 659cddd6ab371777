import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";

const MAIN = join(__dirname, "..", "..", "dist", "http", "plain-http-server-main.js");

/** The plain HTTP server (plain-http-server-main) as a child process: its URL, its count, stop. */
export class PlainHttpServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static start(mode: "discard" | "count"): Promise<PlainHttpServer> {
    const child = spawn(process.execPath, [...STEADY_LATENCY_NODE_FLAGS, MAIN, mode], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    return new Promise((resolve, reject) => {
      child.once("exit", (code) =>
        reject(new Error(`the plain http server exited (${code}) before listening`)),
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", (line) => {
        resolve(new PlainHttpServer(child, (JSON.parse(line) as { port: number }).port));
      });
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async count(): Promise<number> {
    const response = await fetch(this.url("/count"));
    return ((await response.json()) as { events: number }).events;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }
}
