import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { StreamReader } from "@flow/testing";
import { credentials } from "@grpc/grpc-js";
import type { Event } from "../gen/event/v1/event";
import { type ReadRequest, type ReadResponse, SourceServiceClient } from "../gen/source_service/v1/source";

export interface ReadBatch {
  sequence: bigint;
  events: Event[];
  position: Buffer;
}

export interface StreamSettings {
  credits?: number;
  maxBatchSize?: number;
  maxBatchBytes?: number;
  lingerMs?: number;
}

/** A Read stream of a test: batches as they come, commits as Core would send them. */
export class SourceStream {
  private readonly stream;
  readonly reader: StreamReader<ReadRequest, ReadResponse>;

  constructor(client: SourceServiceClient, config: object, settings: StreamSettings = {}) {
    this.stream = client.read();
    this.reader = new StreamReader<ReadRequest, ReadResponse>(this.stream);
    this.stream.write({
      request: {
        $case: "start",
        value: {
          configJson: JSON.stringify(config),
          initialCredits: settings.credits ?? 10,
          maxBatchSize: settings.maxBatchSize ?? 10,
          maxBatchBytes: BigInt(settings.maxBatchBytes ?? 0),
          lingerMs: settings.lingerMs ?? 0,
          stageId: "rabbit",
        },
      },
    });
  }

  /** The next batch (fails on anything else, e.g. `exhausted`). */
  async batch(): Promise<ReadBatch> {
    const message = await this.reader.next();
    if (message.response?.$case !== "batch")
      throw new Error(`expected a batch, got ${message.response?.$case}`);
    const { sequence, batch, checkpoint } = message.response.value;
    return { sequence, events: batch?.events ?? [], position: checkpoint?.position ?? Buffer.alloc(0) };
  }

  /** Batches until `count` events came. */
  async events(count: number): Promise<Event[]> {
    const events: Event[] = [];
    while (events.length < count) events.push(...(await this.batch()).events);
    return events;
  }

  /** The commit notice Core sends once `batch` and every batch before it are durable downstream. */
  commit(batch: ReadBatch): void {
    this.stream.write({
      request: {
        $case: "commit",
        value: { sequence: batch.sequence, checkpoint: { position: batch.position, description: "" } },
      },
    });
  }

  credit(batches: number): void {
    this.stream.write({ request: { $case: "credit", value: { batches } } });
  }

  /** Half-closes as Core does when it stops a source, and waits for the stream to end. */
  async end(): Promise<void> {
    this.stream.end();
    await this.reader.status;
  }

  cancel(): void {
    this.stream.cancel();
  }
}

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
