import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response: { status: ServingStatus }) => void,
  ): grpc.ClientUnaryCall;
}

// The grpc.health.v1 definition grpc-health-check ships (proto-loader, enums as names): the
// same protocol grpc_health_probe and Kubernetes gRPC probes speak.
const HealthClientConstructor = grpc.makeGenericClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  "grpc.health.v1.Health",
) as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

/** grpc.health.v1 Check of `service` ("" asks about the whole server). */
export async function checkHealth(address: string, service = ""): Promise<ServingStatus> {
  const client = new HealthClientConstructor(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<ServingStatus>((resolve, reject) => {
      client.Check({ service }, (error, response) => (error ? reject(error) : resolve(response.status)));
    });
  } finally {
    client.close();
  }
}
