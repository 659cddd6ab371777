import { createRequire } from "node:module";
import { join } from "node:path";
import { cloudEventJsonLine, createEvent } from "@flow/sdk";
import autocannon from "autocannon";
import { REPO_ROOT } from "../broker/broker-clients";
import { PAYLOAD_BYTES } from "../codec/synthetic-events";
import { GENERATOR, NODE_FLAGS } from "../flow/flow-pipeline-run";
import { CONSUMER_HTTP, COUNTING_CONSUMER, FlowHttpRun, SOURCE_HTTP } from "../http/flow-http-run";
import { PlainHttpServer } from "../http/http-server-process";
import type { Scenario, ScenarioContext } from "../scenario";

// The HTTP connectors against plain Node in the same run:
// - source-http: autocannon POSTs one structured CloudEvent per request to @flow/source-http under
//   `flow run` (each answered 200 only after Core's commit), and to a plain node:http server that
//   reads the body and answers 200 with no work: the ceiling of an HTTP receiver here.
// - consumer-http: generator -> @flow/consumer-http into a counting receiver, against a plain
//   undici loop posting the same CloudEvents batches to the same receiver, each awaited.

const CONNECTIONS = 64;
const BATCH_SIZE = 100;
const POLL_MS = 10;

const fmt = (value: number): string => Math.round(value).toLocaleString("en-US");

/** One structured CloudEvent; autocannon puts a fresh id in each request ([<id>]). */
function structuredBody(): string {
  const head = `{"specversion":"1.0","id":"[<id>]","source":"/bench","type":"bench.posted","datacontenttype":"application/json","data":{"pad":"`;
  return `${head}${"x".repeat(Math.max(0, PAYLOAD_BYTES - 12))}"}}`;
}

/** BATCH_SIZE such events in one CloudEvents batch. */
function batchBody(): string {
  const event = structuredBody();
  return `[${Array.from({ length: BATCH_SIZE }, (_, index) => event.replace("[<id>]", `[<id>]-${index}`)).join(",")}]`;
}

async function postLoad(url: string, seconds: number, batch = false): Promise<autocannon.Result> {
  const result = await autocannon({
    url,
    method: "POST",
    headers: {
      "content-type": batch ? "application/cloudevents-batch+json" : "application/cloudevents+json",
    },
    body: batch ? batchBody() : structuredBody(),
    idReplacement: true,
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(
      `${url}: ${result.non2xx} answers not 2xx, ${result.errors} errors of ${result.requests.total}`,
    );
  return result;
}

/**
 * The source-http pipeline under `flow run`, its source committing at most every
 * `commitIntervalMs` (unset: Core's default, 100 ms), while `load` runs against its URL.
 */
async function underFlowRun<T>(
  commitIntervalMs: number | undefined,
  load: (url: string) => Promise<T>,
): Promise<T> {
  const interval = commitIntervalMs === undefined ? "" : `\n    commitIntervalMs: ${commitIntervalMs}`;
  const run = FlowHttpRun.start(
    (dir) => `apiVersion: flow/v1
kind: Pipeline
metadata: { name: bench-source-http }
defaults: { batch: { maxSize: ${BATCH_SIZE} } }
sources:
  - id: hooks
    command: [node, ${NODE_FLAGS}${JSON.stringify(SOURCE_HTTP)}]
    config: { port: 0 }${interval}
consumers:
  - id: count
    command: [node, ${NODE_FLAGS}${JSON.stringify(COUNTING_CONSUMER)}]
    inputs: [hooks]
    config: { reportPath: ${JSON.stringify(join(dir, "report.json"))} }
`,
  );
  try {
    const listening = await run.waitForLog("http source listening");
    return await load(`http://127.0.0.1:${listening.port}/events`);
  } finally {
    await run.stop();
  }
}

const sourceHttpScenario: Scenario = {
  name: "source-http-requests",
  description: `autocannon (${CONNECTIONS} connections, one CloudEvent per POST) against @flow/source-http under \`flow run\` (200 only after Core's commit; at most every 100 ms, and with commitIntervalMs: 0) vs a plain node:http server doing no work (the ceiling)`,
  async measure(context) {
    const seconds = context.quick ? 2 : 10;
    const plain = await PlainHttpServer.start("discard");
    let ceiling: autocannon.Result;
    try {
      ceiling = await postLoad(plain.url("/events"), seconds);
    } finally {
      await plain.stop();
    }
    const [flow, batched] = await underFlowRun(undefined, async (url) => [
      await postLoad(url, seconds),
      await postLoad(url, seconds, true),
    ]);
    const eager = await underFlowRun(0, (url) => postLoad(url, seconds));
    context.log(
      `source-http ${fmt(flow.requests.average)} requests/s (p50 ${flow.latency.p50} ms), with commitIntervalMs 0 ${fmt(eager.requests.average)} requests/s (p50 ${eager.latency.p50} ms), ${fmt(batched.requests.average * BATCH_SIZE)} events/s in batches of ${BATCH_SIZE}, plain node:http ${fmt(ceiling.requests.average)} requests/s (p50 ${ceiling.latency.p50} ms)`,
    );
    const load = `${CONNECTIONS} connections for ${seconds} s, one ${PAYLOAD_BYTES} B CloudEvent per request, every answer 2xx`;
    const detail = `${load}; Flow's latency p50 ${flow.latency.p50} ms, p99 ${flow.latency.p99} ms (an answer waits for the checkpoint commit, at most every 100 ms), the plain server's p50 ${ceiling.latency.p50} ms`;
    const ratioVs = { scenario: "source-http-requests", figure: "plain node:http" };
    return [
      { figure: "plain node:http", unit: "requests/s", value: ceiling.requests.average, detail },
      { figure: "flow source-http", unit: "requests/s", value: flow.requests.average, ratioVs, detail },
      {
        figure: "flow source-http, commitIntervalMs 0",
        unit: "requests/s",
        value: eager.requests.average,
        ratioVs,
        detail: `${load}; the source commits as soon as a checkpoint is committable: latency p50 ${eager.latency.p50} ms, p99 ${eager.latency.p99} ms`,
      },
      {
        figure: `flow source-http, ${BATCH_SIZE} events per request`,
        unit: "events/s",
        value: batched.requests.average * BATCH_SIZE,
        detail: `${CONNECTIONS} connections for ${seconds} s, a CloudEvents batch of ${BATCH_SIZE} events of ${PAYLOAD_BYTES} B per request (${fmt(batched.requests.average)} requests/s, p50 ${batched.latency.p50} ms)`,
      },
    ];
  },
};

/** Events like the generator's, as CloudEvents batch bodies of BATCH_SIZE. */
function batchBodies(events: number): string[] {
  const bodies: string[] = [];
  for (let start = 0; start < events; start += BATCH_SIZE) {
    const lines: string[] = [];
    for (let seq = start + 1; seq <= Math.min(events, start + BATCH_SIZE); seq += 1) {
      const head = `{"seq":${seq},"pad":"`;
      const event = createEvent({
        id: `plain-${seq}`,
        source: "urn:flow:generator",
        type: "flow.generated",
        time: new Date(),
        datacontenttype: "application/json",
        data: Buffer.from(`${head}${"x".repeat(Math.max(0, PAYLOAD_BYTES - head.length - 2))}"}`),
      });
      lines.push(cloudEventJsonLine(event).trimEnd());
    }
    bodies.push(`[${lines.join(",")}]`);
  }
  return bodies;
}

async function countReaches(
  receiver: PlainHttpServer,
  target: number,
  run?: FlowHttpRun,
): Promise<{ firstAt: bigint; lastAt: bigint }> {
  let firstAt: bigint | undefined;
  let lastAt = 0n;
  let seen = -1;
  let exited = false;
  run?.exited.then(() => {
    exited = true;
  });
  const start = await receiver.count();
  for (;;) {
    const count = (await receiver.count()) - start;
    const now = process.hrtime.bigint();
    if (count > 0 && firstAt === undefined) firstAt = now;
    if (count > seen) {
      seen = count;
      lastAt = now;
    }
    if (count >= target) return { firstAt: firstAt as bigint, lastAt };
    if (exited && (await receiver.count()) - start < target)
      throw new Error(`flow run ended with ${seen} of ${target} events at the receiver: ${run?.lastLines()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** What the loop uses of undici (the bench package does not depend on it; the consumer does). */
interface UndiciPool {
  Pool: new (
    origin: string,
    options: { connections: number },
  ) => {
    request(options: {
      path: string;
      method: "POST";
      headers: Record<string, string>;
      body: string;
    }): Promise<{
      statusCode: number;
      body: { dump(): Promise<void> };
    }>;
    close(): Promise<void>;
  };
}

async function plainUndiciLoop(receiver: PlainHttpServer, bodies: string[]): Promise<number> {
  // The consumer's own undici, so both sides speak through the same client library.
  const { Pool } = createRequire(join(REPO_ROOT, "consumers", "http", "package.json"))(
    "undici",
  ) as UndiciPool;
  const pool = new Pool(`http://127.0.0.1:${receiver.port}`, { connections: 8 });
  const events =
    bodies.length === 0
      ? 0
      : (bodies.length - 1) * BATCH_SIZE + (JSON.parse(bodies.at(-1) as string) as unknown[]).length;
  try {
    const started = process.hrtime.bigint();
    for (const body of bodies) {
      const response = await pool.request({
        path: "/events",
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body,
      });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`the receiver answered ${response.statusCode}`);
    }
    return events / Math.max(0.001, Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await pool.close();
  }
}

function consumerEvents(context: ScenarioContext): number {
  return context.events ?? (context.quick ? 2_000 : 100_000);
}

const consumerHttpScenario: Scenario = {
  name: "flow-into-http",
  description: `generator -> @flow/consumer-http under \`flow run\` (CloudEvents batches, WRITTEN on 200) vs a plain undici loop posting the same batches to the same receiver, batch ${BATCH_SIZE}`,
  async measure(context) {
    const events = consumerEvents(context);
    const receiver = await PlainHttpServer.start("count");
    try {
      const run = FlowHttpRun.start(
        () => `apiVersion: flow/v1
kind: Pipeline
metadata: { name: bench-consumer-http }
defaults: { batch: { maxSize: ${BATCH_SIZE} }, inFlight: 32 }
sources:
  - id: gen
    command: [node, ${NODE_FLAGS}${JSON.stringify(GENERATOR)}]
    config: { count: ${events}, rate: 0, batchSize: ${BATCH_SIZE}, payload: { size: ${PAYLOAD_BYTES} } }
consumers:
  - id: hook
    command: [node, ${NODE_FLAGS}${JSON.stringify(CONSUMER_HTTP)}]
    inputs: [gen]
    config: { url: ${JSON.stringify(receiver.url("/events"))} }
`,
      );
      let flow: number;
      try {
        const { firstAt, lastAt } = await countReaches(receiver, events, run);
        flow = events / Math.max(0.001, Number(lastAt - firstAt) / 1e9);
        const code = await run.exited;
        if (code !== 0) throw new Error(`flow run exited ${code}: ${run.lastLines()}`);
      } finally {
        await run.stop();
      }
      const plain = await plainUndiciLoop(receiver, batchBodies(events));
      context.log(`consumer-http ${fmt(flow)} events/s, plain undici loop ${fmt(plain)} events/s`);
      const detail = `${events.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B in batches of ${BATCH_SIZE}, one POST per batch awaited 200 (undici Pool); Flow timed by polling the receiver, the plain loop by its own clock`;
      return [
        { figure: "plain undici batch=100", unit: "events/s", value: plain, detail },
        {
          figure: "flow batch=100",
          unit: "events/s",
          value: flow,
          ratioVs: { scenario: "flow-into-http", figure: "plain undici batch=100" },
          detail,
        },
      ];
    } finally {
      await receiver.stop();
    }
  },
};

export const httpScenarios: readonly Scenario[] = [sourceHttpScenario, consumerHttpScenario];
