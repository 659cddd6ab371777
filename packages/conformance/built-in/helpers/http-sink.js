#!/usr/bin/env node
// An HTTP endpoint for the conformance config of @flow/consumer-http: answers every request 200
// once it has read the body, and writes one line ("listening <port>") when it accepts
// connections, which is what the kit waits for. SIGTERM stops it.
//
//   node http-sink.js <port>
const { createServer } = require("node:http");

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`http-sink.js: expected a port, found ${process.argv[2]}\n`);
  process.exit(2);
}
const server = createServer((request, response) => {
  request.on("data", () => undefined);
  request.on("end", () => response.writeHead(200, { "content-type": "text/plain" }).end("ok\n"));
});
// Batches can be large: no request timeout of node's own.
server.requestTimeout = 0;
server.on("error", (error) => {
  process.stderr.write(`http-sink.js: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
