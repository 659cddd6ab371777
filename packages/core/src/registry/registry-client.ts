import { FLOW_CLI, UserError } from "@flow/errors";
import * as grpc from "@grpc/grpc-js";
import { RegistryServiceClient } from "../gen/registry_service/v1/registry";
import type { RegisteredService } from "../state/state-store";
import { fromServiceMessage } from "./registry-messages";

/** Asks a running registry (`flow registry serve`) for its live services, of one name or all. */
export function listRegistryServices(
  address: string,
  name?: string,
  timeoutMs = 5_000,
): Promise<RegisteredService[]> {
  const client = new RegistryServiceClient(address, grpc.credentials.createInsecure());
  return new Promise<RegisteredService[]>((resolve, reject) => {
    client.listServices(
      { name: name ?? "" },
      new grpc.Metadata(),
      { deadline: new Date(Date.now() + timeoutMs) },
      (error, response) => {
        client.close();
        if (error) {
          reject(
            new UserError(
              `cannot list the services of the registry at ${address}: ${error.details || error.message}`,
              {
                hint: `check the address \`${FLOW_CLI} registry serve\` printed, or read the state store directly with --state / -f`,
              },
            ),
          );
        } else resolve(response.services.map(fromServiceMessage));
      },
    );
  });
}
