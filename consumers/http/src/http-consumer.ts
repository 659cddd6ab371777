import { readFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import {
  type ConsumerDefinition,
  type FlowEvent,
  PermanentError,
  RetryableError,
  readPackageVersion,
} from "@flow/sdk";
import { Pool } from "undici";
import { describeAnswer, verdictOf } from "./http-answer";
import { type HttpConsumerConfig, httpConsumerConfigSchema } from "./http-consumer-config";
import { validateHttpConsumer } from "./http-consumer-validation";
import { type RequestBody, requestBodies } from "./request-bodies";
import { retryAfterMs } from "./retry-after";

/** The outcome of one request. */
interface Outcome {
  request: RequestBody;
  verdict: "written" | "retryable" | "permanent";
  reason: string;
  /** The server's Retry-After, in ms, when it gave one. */
  retryAfterMs?: number;
}

/**
 * Sends each batch over HTTP(S) and answers WRITTEN only once every request of it got a 2xx. 429,
 * 408 and 5xx answers, timeouts and connection failures are retryable (after waiting the server's
 * Retry-After, up to maxRetryAfterMs); any other answer is permanent and the batch is
 * dead-lettered with the status and the start of the response body. Connections are kept alive
 * in an undici Pool per stream.
 */
export const httpConsumer: ConsumerDefinition<HttpConsumerConfig> = {
  name: "flow-consumer-http",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "POSTs events over HTTP(S) as CloudEvents (a batch per request, or one event) or a JSON template; WRITTEN on 2xx, 429/5xx retried after Retry-After, other 4xx dead-lettered",
  configSchema: httpConsumerConfigSchema,
  features: { idempotent: false, ordering: "total" },

  validate: (config, { validateOnly }) => validateHttpConsumer(config, validateOnly),

  open(config) {
    const url = new URL(config.url);
    const ca = config.caFile ? [...rootCertificates, readFileSync(config.caFile, "utf8")] : undefined;
    const pool = new Pool(url.origin, {
      connections: config.connections,
      headersTimeout: config.requestTimeoutMs,
      bodyTimeout: config.requestTimeoutMs,
      keepAliveTimeout: 10_000,
      ...(ca ? { connect: { ca } } : {}),
    });
    const closed = new AbortController();
    const path = `${url.pathname}${url.search}`;
    const headers = commonHeaders(config);

    const send = async (request: RequestBody): Promise<Outcome> => {
      try {
        const response = await pool.request({
          origin: url.origin,
          path,
          method: config.method,
          headers: { ...request.headers, ...headers },
          body: request.body,
          signal: AbortSignal.any([closed.signal, AbortSignal.timeout(config.requestTimeoutMs)]),
        });
        const verdict = verdictOf(response.statusCode);
        if (verdict === "written") {
          await response.body.dump();
          return { request, verdict, reason: "" };
        }
        const bodyStart = await readStart(response.body, config.reasonBytes);
        return {
          request,
          verdict,
          reason: `${config.method} ${config.url} answered ${describeAnswer(response.statusCode, bodyStart)}`,
          retryAfterMs: verdict === "retryable" ? retryAfterMs(response.headers["retry-after"]) : undefined,
        };
      } catch (error) {
        return {
          request,
          verdict: "retryable",
          reason: `${config.method} ${config.url} failed: ${failure(error, config)}`,
        };
      }
    };

    return {
      async write(events: FlowEvent[]) {
        const outcomes = await inParallel(requestBodies(events, config), config.connections, send);
        const failed = outcomes.filter((outcome) => outcome.verdict !== "written");
        if (failed.length === 0) return;
        const retryable = failed.filter((outcome) => outcome.verdict === "retryable");
        const first = (retryable[0] ?? failed[0]) as Outcome;
        const count = outcomes.length > 1 ? `${failed.length} of ${outcomes.length} requests refused; ` : "";
        const ids = config.format === "batch" ? "" : ` (event ${first.request.events[0]?.id})`;
        const summary = `${count}${first.reason}${ids}`;
        if (retryable.length === 0) throw new PermanentError(summary);
        // Honour the server's Retry-After before Core sends the batch again (its own backoff adds to it).
        const wait = Math.min(
          config.maxRetryAfterMs,
          Math.max(0, ...retryable.map((outcome) => outcome.retryAfterMs ?? 0)),
        );
        if (wait > 0) await sleep(wait, closed.signal);
        throw new RetryableError(wait > 0 ? `${summary} (waited ${wait} ms as Retry-After asked)` : summary);
      },
      async close() {
        closed.abort();
        await pool.close().catch(() => undefined);
      },
    };
  },
};

function commonHeaders(config: HttpConsumerConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  if (config.bearerToken !== undefined) headers.authorization = `Bearer ${config.bearerToken}`;
  if (config.basicAuth !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString("base64")}`;
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  return headers;
}

/** Runs `task` over `items`, at most `limit` at a time; the results in the items' order. */
async function inParallel<Item, Result>(
  items: Item[],
  limit: number,
  task: (item: Item) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as Item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The first `limit` bytes of a body as text; the rest is read and dropped, keeping the connection. */
async function readStart(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length < limit) {
      chunks.push(chunk);
      length += chunk.length;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

function failure(error: unknown, config: HttpConsumerConfig): string {
  const name = (error as Error).name;
  if (name === "TimeoutError" || name === "HeadersTimeoutError" || name === "BodyTimeoutError")
    return `no answer within requestTimeoutMs (${config.requestTimeoutMs} ms)`;
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = (error as { code?: string }).code ?? cause?.code;
  return `${code ? `${code} ` : ""}${(error as Error).message}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
