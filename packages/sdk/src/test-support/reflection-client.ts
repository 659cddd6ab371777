import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

// @grpc/reflection ships the grpc.reflection.v1 proto it serves; a client built from the same
// file asks what grpcurl asks.
const reflectionProto = join(
  dirname(require.resolve("@grpc/reflection")),
  "..",
  "proto",
  "grpc",
  "reflection",
  "v1",
  "reflection.proto",
);
const definition = loadSync(reflectionProto, { keepCase: true, defaults: true, oneofs: true });
const ServerReflectionClient = grpc.makeGenericClientConstructor(
  definition["grpc.reflection.v1.ServerReflection"] as grpc.ServiceDefinition,
  "grpc.reflection.v1.ServerReflection",
);

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

/** The services a server lists through grpc.reflection.v1 ServerReflectionInfo (list_services). */
export async function listServices(address: string): Promise<string[]> {
  const client = new ServerReflectionClient(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = (
        client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionResponse> }
      ).ServerReflectionInfo();
      call.on("data", (response: ReflectionResponse) => {
        if (response.error_response) reject(new Error(response.error_response.error_message));
        else resolve((response.list_services_response?.service ?? []).map((service) => service.name).sort());
        call.end();
      });
      call.on("error", reject);
      call.write({ list_services: "*" });
    });
  } finally {
    client.close();
  }
}
