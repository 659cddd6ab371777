import { createServer, type Socket, connect as tcpConnect } from "node:net";

/**
 * A TCP proxy a test owns in front of MariaDB/MySQL that forwards the handshake (greeting,
 * authentication) and the first `forwardCommands` commands with their answers, then stops
 * forwarding without closing anything: a partition right after the handshake (or after the
 * first statements), the client's next statement is never answered, no error comes.
 *
 * The proxy reads what the client sends packet by packet (a 3-byte length, a sequence id, the
 * payload): a command starts the client's sequence anew at 0, handshake packets never do.
 */
export interface CommandHoldingProxy {
  readonly host: string;
  readonly port: number;
  /** The SQL of the first command the proxy holds (a COM_QUERY's text), once the client sent it. */
  readonly held: Promise<string>;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

const COM_QUERY = 0x03;

export async function startCommandHoldingProxy(
  target: { host: string; port: number },
  forwardCommands = 0,
): Promise<CommandHoldingProxy> {
  const sockets = new Set<Socket>();
  let heldSql: (sql: string) => void = () => undefined;
  const held = new Promise<string>((resolve) => {
    heldSql = resolve;
  });

  // Half-open allowed: a client's FIN is not answered by one of the proxy's own, which across a
  // partition would not come either.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = tcpConnect({ ...target, allowHalfOpen: true });
    let holding = false;
    let commands = 0;
    let pending = Buffer.alloc(0);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      // Once the proxy holds, nothing of one side reaches the other, its end or close neither.
      socket.on("end", () => holding || other.end());
      socket.on("close", () => {
        sockets.delete(socket);
        if (!holding) other.destroy();
      });
    }
    upstream.on("data", (chunk) => {
      if (!holding) client.write(chunk);
    });
    client.on("data", (chunk) => {
      if (holding) return;
      pending = Buffer.concat([pending, chunk]);
      while (!holding && pending.length >= 4) {
        const length = pending.readUIntLE(0, 3);
        if (pending.length < 4 + length) break;
        const packet = pending.subarray(0, 4 + length);
        pending = pending.subarray(4 + length);
        if (packet[3] === 0 && ++commands > forwardCommands) {
          // Nothing flows from here on: the client's socket stays open, as across a real
          // partition, until the client itself destroys it.
          holding = true;
          heldSql(packet[4] === COM_QUERY ? packet.subarray(5).toString("utf8") : `command ${packet[4]}`);
        } else {
          upstream.write(packet);
        }
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no port");

  return {
    host: "127.0.0.1",
    port: address.port,
    held,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The server `url` names, and where it is (for a proxy's target). */
export function serverOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 3306) };
}

/** `url` with the host and port of `proxy` in place of the server's. */
export function urlThrough(url: string, proxy: { host: string; port: number }): string {
  const through = new URL(url);
  through.hostname = proxy.host;
  through.port = String(proxy.port);
  return through.toString();
}
