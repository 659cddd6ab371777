import type * as http2 from "node:http2";
import type * as grpc from "@grpc/grpc-js";

/**
 * The HTTP/2 flow-control window Flow's streams use, per stream and per connection (16 MiB).
 *
 * HTTP/2 lets a sender have at most one window of unacknowledged bytes on a stream; the default
 * window is 64 KiB, about two batches of 100 events, so a stream stalls on every WINDOW_UPDATE
 * round trip, and a receiver busy for a millisecond stalls its sender. Channels set it with
 * grpc-js's `grpc-node.flow_control_window`; grpc-js applies that option to clients only, so
 * servers get it from {@link widenServerFlowWindows}.
 */
export const FLOW_WINDOW_BYTES = 16 * 1024 * 1024;

/** What a grpc-js Server keeps per bound port (a private field; see below). */
interface GrpcServerInternals {
  http2Servers?: Map<http2.Http2Server, unknown>;
}

/**
 * Gives every connection a bound grpc-js server accepts the wide window: the per-stream window
 * is announced in the server's SETTINGS (`initialWindowSize`), the connection window is raised
 * as each session starts. Data Core sends to processors and consumers flows client -> server,
 * so without this those hops run on 64 KiB windows.
 *
 * grpc-js has no server option for this and keeps its HTTP/2 servers in a private field; the
 * field is read defensively and `server-flow-window.spec.ts` checks the window a client
 * actually sees, so a grpc-js upgrade that moves the field fails that test instead of silently
 * slowing every pipeline. Call after `bindAsync` has completed.
 */
export function widenServerFlowWindows(server: grpc.Server, windowBytes = FLOW_WINDOW_BYTES): number {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  if (!(servers instanceof Map)) return 0;
  for (const http2Server of servers.keys()) {
    http2Server.updateSettings({ initialWindowSize: windowBytes });
    http2Server.on("session", (session: http2.ServerHttp2Session) => {
      if (!session.destroyed) session.setLocalWindowSize(windowBytes);
    });
  }
  return servers.size;
}
