import { type FlowEvent, PermanentError, RetryableError } from "@flow/sdk";
import Redis, { type Result } from "ioredis";
import type { RedisConsumerConfig } from "./redis-consumer-config";
import { appendStreamEntryFields } from "./stream-entry-fields";

/**
 * XADDs batches to one stream and resolves only once Redis has replied to every XADD (and, with
 * waitReplicas, WAIT has seen the replicas take them). A batch goes in one script call: Redis
 * runs it atomically, and when the call never reaches it, none of the batch is added. Nothing is queued or resent behind the
 * caller's back: a command on a lost connection fails at once (retryable), and a reply that never
 * comes fails after commandTimeoutMs, so an unconfirmed batch is never answered WRITTEN.
 */
export class StreamWriter {
  private lastError: Error | undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly config: RedisConsumerConfig,
  ) {
    // The failure reaches the caller through the command that fails (or ready()); without a
    // listener a lost connection would be an unhandled 'error' event.
    redis.on("error", (error: Error) => {
      this.lastError = error;
    });
  }

  static open(
    config: RedisConsumerConfig,
    options: { reconnect?: boolean; connectTimeoutMs?: number } = {},
  ): StreamWriter {
    const redis = new Redis(config.url, {
      protocol: 2,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      commandTimeout: config.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A command whose reply was lost with the connection may or may not have run: resending it
      // on reconnect could answer WRITTEN for a second copy; the caller retries the batch instead.
      autoResendUnfulfilledCommands: false,
      retryStrategy: options.reconnect === false ? () => null : (times) => Math.min(times * 100, 2000),
    });
    // EVAL on the connection's first batch, EVALSHA after it (and EVAL again after a NOSCRIPT).
    redis.defineCommand("flowXaddBatch", { lua: XADD_BATCH });
    return new StreamWriter(redis, config);
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    if (this.redis.status === "ready") return;
    const why = (): string => (this.lastError ? `: ${this.lastError.message}` : "");
    if (this.redis.status === "end") throw new RetryableError(`the connection to Redis is closed${why()}`);
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        this.redis.off("ready", onReady);
        this.redis.off("end", onEnd);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new RetryableError(`not connected to Redis within ${timeoutMs} ms${why()}`)),
        timeoutMs,
      );
      const onReady = (): void => settle();
      const onEnd = (): void => settle(new RetryableError(`the connection to Redis is closed${why()}`));
      this.redis.once("ready", onReady);
      this.redis.once("end", onEnd);
    });
  }

  get client(): Redis {
    return this.redis;
  }

  async write(events: FlowEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.ready(this.config.commandTimeoutMs);
    try {
      await this.xaddBatch(events);
      if (this.config.waitReplicas !== undefined) await this.waitForReplicas(this.config.waitReplicas);
    } catch (error) {
      throw classified(error);
    }
  }

  close(): void {
    this.redis.disconnect();
  }

  /**
   * One XADD_BATCH script per batch, however many events it holds: ioredis builds and parses one
   * command instead of MULTI, an XADD per event and EXEC (per batch of 100, about 40% less of the
   * consumer's CPU; see docs/benchmarks.md), and Redis runs it atomically as it runs MULTI/EXEC.
   * With idempotence the script skips each event whose id key exists and sets the key after its
   * XADD, so that an XADD that fails leaves no key behind that would make a retry skip the event.
   */
  private async xaddBatch(events: FlowEvent[]): Promise<void> {
    const idempotence = this.config.idempotence;
    const args: (string | number | Buffer)[] = [idempotence ? 1 + events.length : 1, this.config.stream];
    if (idempotence) {
      const prefix = idempotence.keyPrefix ?? `flow:dedup:${this.config.stream}:`;
      for (const event of events) args.push(`${prefix}${event.id}`);
    }
    args.push(idempotence?.ttlSeconds ?? 0, this.config.createStream ? 0 : 1);
    const trim =
      this.config.maxLen === undefined
        ? []
        : ["MAXLEN", this.config.exactTrim ? "=" : "~", this.config.maxLen];
    args.push(trim.length, ...trim);
    for (const event of events) {
      const at = args.length;
      args.push(0);
      args[at] = appendStreamEntryFields(event, this.config.mode, args);
    }
    await this.redis.flowXaddBatch(args);
  }

  private async waitForReplicas(wanted: number): Promise<void> {
    const acknowledged = Number(await this.redis.call("WAIT", wanted, this.config.waitTimeoutMs));
    if (acknowledged < wanted)
      throw new RetryableError(
        `written to the primary, but only ${acknowledged} of ${wanted} replica(s) acknowledged it within ${this.config.waitTimeoutMs} ms (WAIT)`,
      );
  }
}

/**
 * KEYS: the stream, then (with idempotence) one id key per event. ARGV: the id keys' TTL in seconds
 * (0: no idempotence), 1 when the stream must exist already, the trim arguments' count and the trim
 * arguments (MAXLEN ~ n), then per event: its field count and its fields. Returns how many entries
 * were added. An error of any XADD ends the script with that error, the entries before it staying
 * added, as in MULTI/EXEC: Redis rolls back neither.
 */
const XADD_BATCH = `
local ttl = tonumber(ARGV[1])
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOSTREAM stream ' .. KEYS[1] .. ' does not exist (createStream is false)')
end
local command = { 'XADD', KEYS[1] }
local trimLength = tonumber(ARGV[3])
for i = 1, trimLength do command[2 + i] = ARGV[3 + i] end
command[3 + trimLength] = '*'
local fieldsAt = 3 + trimLength
local at = 4 + trimLength
local event = 1
local added = 0
while at <= #ARGV do
  local count = tonumber(ARGV[at])
  local idKey = KEYS[1 + event]
  if ttl == 0 or redis.call('EXISTS', idKey) == 0 then
    for j = 1, count do command[fieldsAt + j] = ARGV[at + j] end
    redis.call(unpack(command, 1, fieldsAt + count))
    if ttl > 0 then redis.call('SET', idKey, '1', 'EX', ttl) end
    added = added + 1
  end
  at = at + 1 + count
  event = event + 1
end
return added
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** XADD_BATCH, defined on each connection by StreamWriter.open: one array, numkeys first. */
    flowXaddBatch(args: (string | number | Buffer)[]): Result<number, Context>;
  }
}

/**
 * Data Redis refuses for what it is (a key of another type, a command it rejects) can never be
 * written: permanent. Everything else (a lost connection, a timeout, OOM, LOADING, READONLY, too
 * few replicas) may pass on a retry.
 */
function classified(error: unknown): Error {
  if (error instanceof PermanentError || error instanceof RetryableError) return error;
  const message = (error as Error).message ?? String(error);
  if (/^(WRONGTYPE|EXECABORT|NOSTREAM|ERR )/.test(message) && !/^ERR max/.test(message))
    return new PermanentError(`Redis refused the batch: ${message}`);
  return new RetryableError(`Redis did not confirm the batch: ${message}`);
}
