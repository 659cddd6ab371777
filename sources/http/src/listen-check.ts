import { createServer } from "node:net";
import { type ConfigIssue, errorIssue } from "@flow/sdk";

/** Binds host:port once and lets go: a port in use, or a host this machine has no address for, at its key. */
export function checkListen(host: string, port: number): Promise<ConfigIssue[]> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      switch (error.code) {
        case "EADDRINUSE":
          return resolve([
            errorIssue(
              "/port",
              `port ${port} on ${host} is in use (by another program, or this pipeline already running)`,
            ),
          ]);
        case "EACCES":
          return resolve([
            errorIssue("/port", `port ${port} needs privileges this process lacks (choose one above 1023)`),
          ]);
        case "EADDRNOTAVAIL":
        case "ENOTFOUND":
        case "EAI_AGAIN":
          return resolve([errorIssue("/host", `${host} is not an address of this machine (${error.code})`)]);
        default:
          return resolve([errorIssue("/port", `cannot listen on ${where}: ${error.message}`)]);
      }
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve([])));
  });
}
