import * as grpc from "@grpc/grpc-js";

/**
 * Where Flow Core asks a service it spawns to listen: `FLOW_LISTEN=unix:<path>` names a Unix
 * domain socket in a folder private to Core (cheaper than loopback TCP: no TCP stack, no ports).
 * Unset, a service listens on TCP as before (FLOW_SERVICE_HOST / FLOW_SERVICE_PORT), so a service
 * that ignores the variable - an older SDK, another language - keeps working: its handshake says
 * tcp, and Core dials that.
 */
export const LISTEN_ENV = "FLOW_LISTEN";

export type ListenAddress = { network: "unix"; path: string };

/** The socket `FLOW_LISTEN` names; undefined when it is unset or empty. Throws on any other form. */
export function listenAddressFromEnv(env: NodeJS.ProcessEnv = process.env): ListenAddress | undefined {
  const value = env[LISTEN_ENV];
  if (value === undefined || value === "") return undefined;
  const path = value.startsWith("unix:") ? value.slice("unix:".length) : "";
  if (!path.startsWith("/"))
    throw new Error(
      `${LISTEN_ENV}: found "${value}", expected unix:<absolute socket path> (or leave it unset to listen on TCP)`,
    );
  return { network: "unix", path };
}

/**
 * Binds a running grpc-js server to a Unix socket as well. The server keeps the TCP port it was
 * started on; the handshake names the socket.
 *
 * The socket keeps grpc-js's default HTTP/2 windows (64 KiB): with the 16 MiB ones
 * `widenServerFlowWindows` gives TCP ports, Core's stream to a processor stalled on this socket
 * (32 batches unanswered until the ack timeout, in every run at batch 100; over TCP it does not),
 * which is not understood yet. So FLOW_LISTEN is not Core's default (docs/benchmarks.md).
 */
export async function bindUnixSocket(server: grpc.Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix:${path}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(new Error(`cannot listen on ${path}: ${error.message}`)) : resolve(),
    );
  });
}
