import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";

export type HealthStatus = "serving" | "not_serving" | "unknown" | "unreachable";

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): grpc.ClientUnaryCall;
}

let constructor: (new (target: string, credentials: grpc.ChannelCredentials) => HealthClient) | undefined;

function healthClientConstructor(): new (target: string, credentials: grpc.ChannelCredentials) => HealthClient {
  if (!constructor) {
    const loaded = grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: new (target: string, credentials: grpc.ChannelCredentials) => HealthClient } } };
    };
    constructor = loaded.grpc.health.v1.Health;
  }
  return constructor;
}

/** Asks a service's standard grpc.health.v1 endpoint how it is (overall status: service ""). */
export function checkHealth(target: string, timeoutMs: number, service = ""): Promise<HealthStatus> {
  const Health = healthClientConstructor();
  const client = new Health(target, grpc.credentials.createInsecure());
  return new Promise<HealthStatus>((resolve) => {
    client.check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
      client.close();
      if (error) resolve(error.code === grpc.status.NOT_FOUND ? "unknown" : "unreachable");
      else resolve(response?.status === "SERVING" ? "serving" : response?.status === "NOT_SERVING" ? "not_serving" : "unknown");
    });
  });
}
