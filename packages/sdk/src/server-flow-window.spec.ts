import { once } from "node:events";
import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { FLOW_WINDOW_BYTES, widenServerFlowWindows } from "./server-flow-window";
import { ServiceServer } from "./service-server";
import { SDK_PROTO_DIR } from "./test-support/family-servers";

/** Connects a plain HTTP/2 client and returns what the server announced and granted. */
async function windowsSeenBy(address: string): Promise<{ streamWindow: number; connectionWindow: number }> {
  const client = http2.connect(`http://${address}`);
  // A server shutting down sends GOAWAY; this probe has nothing more to say by then.
  client.on("error", () => undefined);
  try {
    await once(client, "remoteSettings");
    // The server raises the connection window right after its SETTINGS; frames arrive in order,
    // so once a PING is answered every earlier WINDOW_UPDATE has been applied.
    await new Promise<void>((resolve, reject) => client.ping((error) => (error ? reject(error) : resolve())));
    return {
      streamWindow: client.remoteSettings.initialWindowSize ?? 0,
      connectionWindow: client.state.remoteWindowSize ?? 0,
    };
  } finally {
    client.close();
  }
}

describe("widenServerFlowWindows", () => {
  it("gives a ServiceServer's connections the wide window per stream and per connection", async () => {
    const server = await ServiceServer.start({ services: [], protoDir: SDK_PROTO_DIR });
    try {
      expect(await windowsSeenBy(server.address)).toEqual({
        streamWindow: FLOW_WINDOW_BYTES,
        connectionWindow: FLOW_WINDOW_BYTES,
      });
    } finally {
      await server.stop(100);
    }
  });

  it("leaves a plain grpc-js server on the 64 KiB default (what the SDK server fixes)", async () => {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    try {
      const seen = await windowsSeenBy(`127.0.0.1:${port}`);
      expect(seen.streamWindow).toBe(65_535);
      expect(widenServerFlowWindows(server, 1024 * 1024)).toBe(1);
      expect(await windowsSeenBy(`127.0.0.1:${port}`)).toEqual({
        streamWindow: 1024 * 1024,
        connectionWindow: 1024 * 1024,
      });
    } finally {
      server.forceShutdown();
    }
  });
});
