import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { HttpSourceConfig } from "./http-source-config";
import type { PendingWindow, WindowFull } from "./pending-window";
import { RejectedRequest } from "./rejected-request";
import { checkAuthentication, checkBearer } from "./request-authentication";
import { type PlainEventShape, requestEvents } from "./request-events";
import type { TlsMaterial } from "./tls-files";

export interface WebhookServer {
  readonly port: number;
  readonly url: string;
  /** Stops listening and ends every connection; resolves once the port is free. */
  close(): Promise<void>;
}

/** The stream is over: requests it held are answered 503 so their senders send them again. */
export class StreamEndedError extends Error {
  override name = "StreamEndedError";
}

/**
 * The HTTP(S) server of one Read stream: POSTs to `config.path` deliver events into `window` and
 * are answered once Core has committed them (200), or at once when they cannot be taken (400, 401,
 * 413, 415, 429, 503); GET /healthz says the source is reading and how full its window is.
 */
export async function startWebhookServer(
  config: HttpSourceConfig,
  window: PendingWindow,
  shape: PlainEventShape,
  tls: TlsMaterial | undefined,
  signal: AbortSignal,
): Promise<WebhookServer> {
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response, config, window, shape).catch((error: Error) =>
      answer(response, 500, { error: `flow-source-http: ${error.message}` }),
    );
  };
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler)
    : createHttpServer(handler);
  // Connections idle between requests are not worth keeping for long; a body slower than this is dropped.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = Math.max(60_000, config.responseTimeoutMs + 30_000);
  await listen(server, config.host, config.port, signal);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `${tls ? "https" : "http"}://${host}:${port}${config.path}`,
    close() {
      // The window is closed first: requests still open are being answered 503 with
      // Connection: close, so their sockets end once the answer is out. Idle keep-alive
      // connections go now; a body still uploading after a grace period is cut.
      closing ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), 2000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/**
 * Listens, retrying for a while when the port is in use: after a restart the process before may
 * still hold it for a moment (it stops when Core's lifeline closes, not instantly).
 */
async function listen(server: Server, host: string, port: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port }, () => {
          server.off("error", reject);
          resolve();
        });
      });
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EADDRINUSE" || Date.now() > deadline || signal.aborted)
        throw new Error(`cannot listen on ${host}:${port}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  config: HttpSourceConfig,
  window: PendingWindow,
  shape: PlainEventShape,
): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  const retryAfter = { "retry-after": String(config.retryAfterSeconds) };
  if (path === "/healthz" && (request.method === "GET" || request.method === "HEAD"))
    return answer(response, window.closed ? 503 : 200, {
      status: window.closed ? "stopping" : "reading",
      ...window.stats,
    });
  if (path !== config.path)
    return answer(response, 404, { error: `no such path; POST events to ${config.path}` });
  if (request.method !== "POST")
    return answer(response, 405, { error: "only POST delivers events" }, { allow: "POST" });
  if (window.closed) return stopping(response, "the source is stopping; retry", retryAfter);
  try {
    if (config.bearerToken !== undefined) checkBearer(request.headers.authorization, config.bearerToken);
  } catch (error) {
    return reject(response, error as RejectedRequest);
  }
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (declared > config.maxBodyBytes) return tooLarge(response, config);
  const full = window.full();
  if (full) return busy(response, full, retryAfter);

  const body = await readBody(request, config.maxBodyBytes, window);
  if (body === "too large") return tooLarge(response, config);
  if (body === "window full") return busy(response, "bytes", retryAfter);
  if (body === "aborted") return;
  let admitted: ReturnType<PendingWindow["admit"]>;
  try {
    checkAuthentication(request.headers, body, { ...config, bearerToken: undefined });
    const events = requestEvents(request.headers, body, shape);
    admitted = window.admit(events, body.length);
  } catch (error) {
    window.unreserve(body.length);
    if (error instanceof RejectedRequest) return reject(response, error);
    throw error;
  }
  if (typeof admitted === "string") return busy(response, admitted, retryAfter);
  const accepted = admitted.events;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), config.responseTimeoutMs);
  });
  try {
    const outcome = await Promise.race([admitted.committed, timedOut]);
    if (outcome === "timeout")
      return answer(
        response,
        503,
        { error: `not committed within ${config.responseTimeoutMs} ms; retry (the events may arrive twice)` },
        retryAfter,
      );
    answer(response, 200, { accepted });
  } catch (error) {
    stopping(response, `${(error as Error).message}; retry`, retryAfter);
  } finally {
    clearTimeout(timer);
  }
}

/** The body, reserving its bytes in the window as they come; or why it was not read whole. */
function readBody(
  request: IncomingMessage,
  maxBytes: number,
  window: PendingWindow,
): Promise<Buffer | "too large" | "window full" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (outcome: "too large" | "window full" | "aborted"): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      window.unreserve(length);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      if (length + chunk.length > maxBytes) stop("too large");
      else if (!window.reserve(chunk.length)) stop("window full");
      else {
        length += chunk.length;
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => {
      request.off("close", onClose);
      resolve(Buffer.concat(chunks, length));
    };
    const onClose = (): void => {
      if (!request.complete) stop("aborted");
    };
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("close", onClose);
  });
}

function tooLarge(response: ServerResponse, config: HttpSourceConfig): void {
  // The rest of the body is not read: the connection closes after the answer.
  response.shouldKeepAlive = false;
  answer(
    response,
    413,
    { error: `the body is larger than maxBodyBytes (${config.maxBodyBytes})` },
    { connection: "close" },
  );
}

/** 503 from a stream that is ending: the connection closes after it, so the server can stop. */
function stopping(response: ServerResponse, reason: string, retryAfter: Record<string, string>): void {
  response.shouldKeepAlive = false;
  answer(response, 503, { error: reason }, retryAfter);
}

function busy(response: ServerResponse, full: WindowFull, retryAfter: Record<string, string>): void {
  const limit = full === "events" ? "maxPendingEvents" : "maxPendingBytes";
  answer(
    response,
    429,
    { error: `the pipeline is not keeping up (${limit} reached); retry after the Retry-After delay` },
    retryAfter,
  );
}

function reject(response: ServerResponse, error: RejectedRequest): void {
  answer(response, error.status, { error: error.message }, error.headers);
}

function answer(
  response: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}
