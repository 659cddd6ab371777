import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * A real TCP proxy a test owns, to put between a client and a real server (PostgreSQL, a broker)
 * and break the network between them for real, without stopping the shared server:
 *
 *     const proxy = await startTcpProxy({ host: "127.0.0.1", port: 5432 });
 *     // connect the client to 127.0.0.1:proxy.port
 *     proxy.cut();       // every live connection is reset, new ones are reset at once
 *     proxy.hold();      // a partition: nothing flows, nothing is closed (half-open connections)
 *     proxy.restore();   // forwards again (held bytes and held connections go through)
 *     await proxy.close();
 */
export interface TcpProxy {
  /** 127.0.0.1 */
  readonly host: string;
  /** The port the OS gave the proxy. */
  readonly port: number;
  /** Client connections currently open through the proxy. */
  readonly connectionCount: number;
  /**
   * Resets (TCP RST) every live connection, on both sides, and resets every new connection as soon
   * as it is accepted, until restore(): the client sees "connection reset", as when a server dies.
   */
  cut(): void;
  /**
   * Stops forwarding without closing anything: live connections stay open with their bytes held,
   * new connections are accepted and held. The client sees a silent network, as in a partition,
   * so only its own timeouts can end a call.
   */
  hold(): void;
  /** Accepts and forwards again; what hold() kept back is delivered. */
  restore(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

export interface TcpProxyTarget {
  host: string;
  port: number;
}

type Mode = "forward" | "cut" | "hold";

/** One client connection and, once the proxy forwards it, its connection to the target. */
interface Pair {
  client: Socket;
  upstream?: Socket;
}

export async function startTcpProxy(target: TcpProxyTarget): Promise<TcpProxy> {
  let mode: Mode = "forward";
  const pairs = new Set<Pair>();

  const destroyPair = (pair: Pair, reset: boolean): void => {
    pairs.delete(pair);
    for (const socket of [pair.client, pair.upstream]) {
      if (!socket || socket.destroyed) continue;
      // resetAndDestroy needs a connected socket; one still connecting is just destroyed.
      if (reset && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  };

  /** Copies one direction by hand (not pipe()), so hold() can pause it without pipe resuming it. */
  const forward = (from: Socket, to: Socket): void => {
    from.on("data", (chunk) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on("drain", () => {
      if (mode === "forward") from.resume();
    });
  };

  const connectUpstream = (pair: Pair): void => {
    const upstream = tcpConnect({ host: target.host, port: target.port });
    pair.upstream = upstream;
    upstream.on("error", () => destroyPair(pair, true));
    upstream.on("close", () => destroyPair(pair, false));
    upstream.once("connect", () => {
      forward(pair.client, upstream);
      forward(upstream, pair.client);
      if (mode === "forward") pair.client.resume();
      else pause(pair);
    });
  };

  const pause = (pair: Pair): void => {
    pair.client.pause();
    pair.upstream?.pause();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    const pair: Pair = { client };
    client.on("error", () => destroyPair(pair, true));
    client.on("close", () => destroyPair(pair, false));
    if (mode === "cut") {
      client.resetAndDestroy();
      return;
    }
    pairs.add(pair);
    if (mode === "forward") connectUpstream(pair);
    // In "hold" the client stays paused and unforwarded; restore() connects it.
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the TCP proxy has no port");

  return {
    host: "127.0.0.1",
    port: address.port,
    get connectionCount() {
      return pairs.size;
    },
    cut() {
      mode = "cut";
      for (const pair of [...pairs]) destroyPair(pair, true);
    },
    hold() {
      mode = "hold";
      for (const pair of pairs) pause(pair);
    },
    restore() {
      mode = "forward";
      for (const pair of pairs) {
        if (!pair.upstream) connectUpstream(pair);
        else if (!pair.upstream.connecting) {
          pair.client.resume();
          pair.upstream.resume();
        }
      }
    },
    close() {
      for (const pair of [...pairs]) destroyPair(pair, false);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
