import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the server answers one request; the default is 200. */
export type Responder = (request: Received, response: ServerResponse) => void | Promise<void>;

/** A real HTTP server on a free loopback port that records every request and its connections. */
export class ReceivingServer {
  readonly received: Received[] = [];
  connections = 0;
  respond: Responder = (_, response) => {
    response.writeHead(200).end();
  };
  private readonly server: Server;
  private waiters: (() => void)[] = [];

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const received = {
          method: request.method ?? "",
          path: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.received.push(received);
        for (const wake of this.waiters.splice(0)) wake();
        void this.respond(received, response);
      });
    });
    this.server.on("connection", () => {
      this.connections += 1;
    });
  }

  static async start(): Promise<ReceivingServer> {
    const receiving = new ReceivingServer();
    await new Promise<void>((resolve) => receiving.server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    return receiving;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` requests have arrived in all. */
  async requests(count: number): Promise<Received[]> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received.slice(0, count);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
