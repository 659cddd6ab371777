import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  BatchByteLimit,
  type ConfigIssue,
  PermanentError,
  readPackageVersion,
  type SourceDefinition,
  serviceLogger,
} from "@flow/sdk";
import { type HttpSourceConfig, httpSourceConfigSchema } from "./http-source-config";
import { checkListen } from "./listen-check";
import { PendingWindow } from "./pending-window";
import { readTlsFiles } from "./tls-files";
import { StreamEndedError, startWebhookServer } from "./webhook-server";

const DEFAULT_BATCH_SIZE = 100;
const logger = serviceLogger("flow-source-http");

/** The log line (msg) that says where a stream's server listens; its fields carry `port` and `url`. */
export const LISTENING_MESSAGE = "http source listening";

/**
 * A checkpoint of this source: which Read stream cut the batch (`run`) and the batch's number in
 * it. Nothing resumes from it - a webhook sender, not a log, holds what was not committed, and
 * sends it again - it only lets a commit notice find the requests it answers.
 */
interface HttpPosition {
  kind: "http";
  run: string;
  batch: number;
}

/** The windows of the Read streams open in this process, by run: where commit notices go. */
const windows = new Map<string, PendingWindow>();

export const httpSource: SourceDefinition<HttpSourceConfig> = {
  name: "flow-source-http",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Receives events over HTTP(S) POST (CloudEvents or plain JSON); answers 2xx only once Core has committed them, 429 with Retry-After when the pipeline is behind",
  configSchema: httpSourceConfigSchema,
  features: { checkpointing: true, ordering: "none" },

  async validate(config, { validateOnly }) {
    const issues: ConfigIssue[] = config.tls ? readTlsFiles(config.tls).issues : [];
    // At a stream's start the stream itself binds (and says so if it cannot); a bind here could
    // race the closing server of the stream before.
    if (validateOnly) issues.push(...(await checkListen(config.host, config.port)));
    return issues;
  },

  async *read(config, context) {
    const tls = config.tls ? readTlsFiles(config.tls) : undefined;
    if (tls && !tls.material)
      throw new PermanentError(tls.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "));
    const maxSize = context.maxBatchSize > 0 ? context.maxBatchSize : DEFAULT_BATCH_SIZE;
    const window = new PendingWindow({
      maxEvents: config.maxPendingEvents,
      maxBytes: config.maxPendingBytes,
    });
    const run = randomUUID();
    windows.set(run, window);
    const server = await startWebhookServer(
      config,
      window,
      { source: config.source ?? `/http${config.path}`, type: config.type, idPointer: config.idPointer },
      tls?.material,
      context.signal,
    ).catch((error: Error) => {
      windows.delete(run);
      throw error;
    });
    logger.info({ stage: context.stageId, port: server.port, url: server.url }, LISTENING_MESSAGE);
    try {
      const limit = new BatchByteLimit(context);
      let batch = 0;
      while (!context.signal.aborted) {
        await window.ready(maxSize, context.lingerMs, context.signal);
        if (context.signal.aborted) break;
        const events = window.take(batch + 1, maxSize, limit);
        if (events.length === 0) continue;
        batch += 1;
        const position: HttpPosition = { kind: "http", run, batch };
        yield {
          events,
          checkpoint: {
            position: Buffer.from(JSON.stringify(position), "utf8"),
            description: `batch ${batch} of ${server.url} (stream ${run})`,
          },
        };
      }
    } finally {
      window.close(new StreamEndedError("the source's stream ended before Core committed these events"));
      windows.delete(run);
      await server.close();
    }
  },

  onCommit(position) {
    const decoded = decodePosition(position);
    if (decoded) windows.get(decoded.run)?.commit(decoded.batch);
  },
};

function decodePosition(bytes: Buffer): HttpPosition | undefined {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as Partial<HttpPosition>;
    if (value.kind === "http" && typeof value.run === "string" && typeof value.batch === "number")
      return value as HttpPosition;
  } catch {}
  return undefined;
}
