import { connect } from "node:net";
import { UserError } from "@flow/errors";

/**
 * Opens and closes one connection to `address` (host:port, [ipv6]:port or unix:/path): a stage
 * whose service is not running, or whose host does not resolve, is refused with one line that
 * says which, instead of the connection-retry report gRPC gives a call later.
 */
export function checkReachable(stageId: string, address: string, timeoutMs: number): Promise<void> {
  const target = address.startsWith("unix:")
    ? { path: address.slice("unix:".length) }
    : (() => {
        const match = /^\[?(.*?)\]?:(\d+)$/.exec(address);
        return { host: match?.[1] ?? address, port: Number(match?.[2] ?? 0) };
      })();
  return new Promise((resolve, reject) => {
    const socket = connect(target);
    const fail = (reason: string): void => {
      socket.destroy();
      reject(
        new UserError(`stage "${stageId}": address ${address}: ${reason}`, {
          hint: "start the service there, or correct the address (host:port, [ipv6]:port or unix:/path)",
        }),
      );
    };
    const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(connectFailure(error));
    });
  });
}

function connectFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return "nothing is listening there (connection refused)";
    case "ENOENT":
      return "no such socket file";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "the host cannot be reached";
    default:
      return `cannot connect (${error.code ?? error.message})`;
  }
}
