import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FlowProcess, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

// generator -> @flow/consumer-http under `flow run` -> a receiving server in this process that keeps
// each CloudEvent id once (the idempotent sink) and now and then answers 503 with Retry-After.

/** A real HTTP server that takes CloudEvents batches and keeps each id once. */
class DedupingReceiver {
  readonly ids = new Set<string>();
  received = 0;
  requests = 0;
  refused = 0;
  private readonly server: Server;

  private constructor(refuseEvery: number) {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.requests += 1;
        if (refuseEvery > 0 && this.requests % refuseEvery === 0) {
          this.refused += 1;
          response.writeHead(503, { "retry-after": "0" }).end("busy, try again");
          return;
        }
        const events = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string }[];
        for (const event of events) this.ids.add(event.id);
        this.received += events.length;
        response.writeHead(200).end();
      });
    });
  }

  static async start(refuseEvery: number): Promise<DedupingReceiver> {
    const receiver = new DedupingReceiver(refuseEvery);
    await new Promise<void>((resolve) => receiver.server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }

  missing(total: number): number {
    let missing = 0;
    for (let seq = 1; seq <= total; seq += 1) if (!this.ids.has(`gen-${seq}`)) missing += 1;
    return missing;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe("generator -> consumer-http -> a deduplicating receiver, through `flow run`", () => {
  const dir = tempDir("http-consumer");
  let receiver: DedupingReceiver;
  afterEach(() => receiver.close());
  afterAll(() => dir.remove());

  const pipeline = (name: string, total: number): string =>
    dir.file(
      `${name}.yaml`,
      `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults: { batch: { maxSize: 200 }, inFlight: 4, retry: { maxAttempts: 20, initialDelayMs: 10 }, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 0 }
consumers:
  - id: hook
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-http"))}]
    inputs: [gen]
    config: { url: ${JSON.stringify(receiver.url)}, connections: 4 }
`,
    );

  const runToEnd = async (file: string): Promise<void> => {
    const result = await new FlowProcess(["run", file], { cwd: dir.path }).wait();
    if (result.code !== 0) throw new Error(`flow run exited ${result.code}:\n${result.stderr.slice(-3000)}`);
  };

  it("100,000 events reach the receiver, every id exactly once, through 503s with Retry-After", async () => {
    const total = 100_000;
    receiver = await DedupingReceiver.start(97);
    await runToEnd(pipeline("http-consumer-e2e", total));
    console.log(
      `http-consumer: ${receiver.requests} requests, ${receiver.refused} refused, ${receiver.received} events received`,
    );
    expect(receiver.refused).toBeGreaterThan(0);
    expect(receiver.ids.size).toBe(total);
    expect(receiver.missing(total)).toBe(0);
  }, 240_000);

  it("a SIGKILL of Core mid-run, then a rerun: no id lost", async () => {
    const total = 50_000;
    receiver = await DedupingReceiver.start(0);
    const file = pipeline("http-consumer-core-kill", total);
    const first = new FlowProcess(["run", file], { cwd: dir.path });
    const killAt = Math.floor(total * (0.2 + Math.random() * 0.4));
    while (receiver.ids.size < killAt) {
      if (first.child.exitCode !== null) throw new Error(`flow exited early:\n${first.stderr.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.kill("SIGKILL");
    expect((await first.wait()).signal).toBe("SIGKILL");
    const beforeKill = receiver.ids.size;
    await runToEnd(file);
    console.log(
      `http-consumer: Core killed with ${beforeKill} ids received; ${receiver.received - total} duplicates in all`,
    );
    expect(receiver.missing(total)).toBe(0);
  }, 240_000);
});
