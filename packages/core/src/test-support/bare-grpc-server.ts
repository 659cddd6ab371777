import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

/**
 * Starts a bare grpc-js server on a port of the OS's choosing, with grpc.health.v1 answering
 * SERVING when `withHealth`; returns its host:port. Keep the server to shut it down.
 */
export async function listenBare(server: grpc.Server, withHealth = true): Promise<string> {
  if (withHealth) new HealthImplementation({ "": "SERVING" }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return `127.0.0.1:${port}`;
}
