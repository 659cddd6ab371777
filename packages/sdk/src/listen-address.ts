import * as grpc from "@grpc/grpc-js";
import { widenServerFlowWindows } from "./server-flow-window";

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
 * Binds a running grpc-js server to a Unix socket as well, with Flow's wide HTTP/2 windows. The
 * server keeps the TCP port it was started on; the handshake names the socket.
 */
export async function bindUnixSocket(server: grpc.Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix:${path}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(new Error(`cannot listen on ${path}: ${error.message}`)) : resolve(),
    );
  });
  // Applies the windows to every bound port again: for the TCP one a second time, which changes nothing.
  widenServerFlowWindows(server);
}
