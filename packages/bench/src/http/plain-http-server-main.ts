import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// The plain Node http server the HTTP scenarios measure against, in a process of its own as the
// Flow services are. `discard`: reads each body and answers 200, no work: the ceiling of an HTTP
// receiver on this machine. `count`: also parses each body as a JSON array (a CloudEvents batch)
// and counts the events; GET /count says how many came. Prints {"port":N} once it listens.

const mode = process.argv[2] === "count" ? "count" : "discard";
let events = 0;

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/count") {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ events }));
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    if (mode === "count") events += (JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown[]).length;
    response.writeHead(200, { "content-length": "0" }).end();
  });
});
server.keepAliveTimeout = 10_000;
server.listen({ host: "127.0.0.1", port: 0 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
