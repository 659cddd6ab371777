import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** A grpc.health.v1 ServingStatus, by name. */
export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** What a health check makes of a service: its status, or that nothing answered. */
export type HealthStatus = "serving" | "not_serving" | "unknown" | "unreachable";

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response: { status: ServingStatus }) => void,
  ): grpc.ClientUnaryCall;
}

// grpc-health-check ships the grpc.health.v1 definition (loaded by proto-loader with enums as
// names); a generic client over it speaks the standard protocol, like grpc_health_probe and
// Kubernetes gRPC probes.
const HealthClientConstructor = grpc.makeGenericClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  "grpc.health.v1.Health",
) as unknown as new (
  target: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

/**
 * grpc.health.v1 Check of `service` ("" for the whole server) at `target`, answered as the server
 * names the status; rejects with the call's error (NOT_FOUND for a service the server does not
 * know, UNAVAILABLE when nothing answers, DEADLINE_EXCEEDED after `timeoutMs`, when given).
 */
export async function checkServingStatus(
  target: string,
  options: { service?: string; timeoutMs?: number } = {},
): Promise<ServingStatus> {
  const client = new HealthClientConstructor(target, grpc.credentials.createInsecure());
  const callOptions: grpc.CallOptions =
    options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + options.timeoutMs) };
  try {
    return await new Promise<ServingStatus>((resolve, reject) => {
      client.Check({ service: options.service ?? "" }, callOptions, (error, response) =>
        error ? reject(error) : resolve(response.status),
      );
    });
  } finally {
    client.close();
  }
}

/**
 * Asks a service's standard grpc.health.v1 endpoint how it is (overall status: service ""), within
 * `timeoutMs`; never rejects: a service the server does not know is "unknown", a call that fails
 * otherwise "unreachable".
 */
export async function checkHealth(target: string, timeoutMs: number, service = ""): Promise<HealthStatus> {
  try {
    const status = await checkServingStatus(target, { service, timeoutMs });
    return status === "SERVING" ? "serving" : status === "NOT_SERVING" ? "not_serving" : "unknown";
  } catch (error) {
    return (error as grpc.ServiceError).code === grpc.status.NOT_FOUND ? "unknown" : "unreachable";
  }
}
