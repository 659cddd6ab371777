import * as grpc from "@grpc/grpc-js";
import type { ConformContext } from "./conform-context";
import { familyClient } from "./family-clients";
import type { IngestRequest } from "./stream-messages";

/** What became of one Ingest call the kit made: the service's IngestResponse, or why it failed. */
export type IngestOutcome = { batches: bigint } | { error: string; code: grpc.status };

/**
 * One Ingest call to the service under test, as an upstream stage makes it on the direct data
 * path: `batches` pushed in order, then the call ended. Resolves with the IngestResponse once the
 * service has read them all (so what it was pushed is there before a check names it by ref).
 */
export function pushToIngest(
  context: ConformContext,
  batches: readonly IngestRequest[],
  timeoutMs: number,
): Promise<IngestOutcome> {
  const client = familyClient(context.family, context.instance.target, context.major);
  if (!client.ingest) {
    client.close();
    return Promise.resolve({
      error: `the kit's ${context.family}_service v${context.major} has no Ingest rpc`,
      code: grpc.status.UNIMPLEMENTED,
    });
  }
  return new Promise<IngestOutcome>((resolve) => {
    const call = client.ingest?.(
      new grpc.Metadata(),
      { deadline: new Date(Date.now() + timeoutMs) },
      (error, summary) =>
        resolve(
          error ? { error: error.details || error.message, code: error.code } : { batches: summary.batches },
        ),
    );
    for (const batch of batches) call?.write(batch);
    call?.end();
  }).finally(() => client.close());
}
