import { createServer, type Server } from "node:http";
import type { Readiness } from "./readiness";

export interface ObservabilityHandlers {
  /** The Prometheus exposition text and its content type. */
  metrics(): Promise<{ contentType: string; text: string }>;
  readiness(): Readiness;
}

/**
 * Core's HTTP endpoints, the conventions probes and scrapers expect: GET /metrics (Prometheus),
 * /healthz (liveness: the process answers) and /readyz (200 when every stage is serving, else
 * 503 with the stages that are not, as JSON). Resolves with the bound port (0: the OS chooses).
 */
export function serveObservability(
  handlers: ObservabilityHandlers,
  port: number,
  host: string,
): Promise<{ port: number; server: Server }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      handlers.metrics().then(
        ({ contentType, text }) => response.writeHead(200, { "content-type": contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else if (path === "/healthz") {
      json(200, { status: "ok" });
    } else if (path === "/readyz") {
      const readiness = handlers.readiness();
      json(readiness.ready ? 200 : 503, { status: readiness.ready ? "ready" : "not ready", ...readiness });
    } else {
      response.writeHead(404).end("not found: try /metrics, /healthz or /readyz\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ port: typeof address === "object" && address ? address.port : port, server });
    });
  });
}
