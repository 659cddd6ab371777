import { type CallOptions, Metadata, type ServiceError } from "@grpc/grpc-js";

/** A generated source, processor or consumer client, of which `validateOnly` uses the Configure call. */
export interface ConfiguringClient<Response> {
  configure(
    request: { configJson: string; validateOnly: boolean; stageId: string },
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: Response) => void,
  ): unknown;
}

/** Configure in validate-only mode, as `flow validate` and Core before a run call it: the service's issues. */
export function validateOnly<Response>(
  client: ConfiguringClient<Response>,
  config: object,
  stageId = "test",
): Promise<Response> {
  return new Promise((resolve, reject) => {
    client.configure(
      { configJson: JSON.stringify(config), validateOnly: true, stageId },
      new Metadata(),
      {},
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}
