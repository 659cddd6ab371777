import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { SourceServiceClient } from "../gen/source_service/v1/source";

/** The built service (dist/main.js) in a process of its own, and a client of it. */
export class SpawnedSource {
  private constructor(
    readonly child: ChildProcess,
    readonly client: SourceServiceClient,
    private readonly exited: Promise<void>,
  ) {}

  static async start(): Promise<SpawnedSource> {
    const child = spawn(process.execPath, [join(__dirname, "..", "..", "dist", "main.js")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((candidate) => candidate.startsWith("flow-handshake|"));
        if (line) resolve(line.split("|")[5] as string);
      });
      child.once("exit", (code) => reject(new Error(`the source exited (${code}) before its handshake`)));
    });
    return new SpawnedSource(child, new SourceServiceClient(address, credentials.createInsecure()), exited);
  }

  /** SIGKILL: no goodbye to the broker, whose connection simply dies. */
  async kill(): Promise<void> {
    this.client.close();
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Resolves once `condition` holds, asking again every 20 ms: for what the broker tells no one. */
export async function until(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
