import { type FlowEvent, PermanentError, RetryableError } from "@flow/sdk";
import Redis from "ioredis";
import type { RedisConsumerConfig } from "./redis-consumer-config";
import { streamEntryFields } from "./stream-entry-fields";

/**
 * XADDs batches to one stream and resolves only once Redis has replied to every XADD (and, with
 * waitReplicas, WAIT has seen the replicas take them). A batch goes in one MULTI/EXEC: Redis
 * applies all of it or, when EXEC never reaches it, none. Nothing is queued or resent behind the
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
      if (this.config.idempotence) await this.writeOnce(events, this.config.idempotence);
      else await this.writeAll(events);
      if (this.config.waitReplicas !== undefined) await this.waitForReplicas(this.config.waitReplicas);
    } catch (error) {
      throw classified(error);
    }
  }

  close(): void {
    this.redis.disconnect();
  }

  private xaddHead(): (string | number)[] {
    const head: (string | number)[] = [this.config.stream];
    if (!this.config.createStream) head.push("NOMKSTREAM");
    if (this.config.maxLen !== undefined)
      head.push("MAXLEN", this.config.exactTrim ? "=" : "~", this.config.maxLen);
    head.push("*");
    return head;
  }

  private async writeAll(events: FlowEvent[]): Promise<void> {
    const transaction = this.redis.multi();
    const head = this.xaddHead();
    for (const event of events)
      transaction.call("XADD", ...head, ...streamEntryFields(event, this.config.mode));
    const replies = await transaction.exec();
    if (replies === null) throw new RetryableError("the MULTI/EXEC transaction was aborted");
    for (const [error, id] of replies) {
      if (error) throw error;
      if (id === null)
        throw new PermanentError(`stream ${this.config.stream} does not exist (createStream is false)`);
    }
  }

  /**
   * One Lua script per batch (atomic, like MULTI/EXEC): for each event whose id key is absent, XADD
   * it, then set the key with the TTL. The XADD comes first so that an XADD that fails leaves no
   * key behind that would make a retry skip the event.
   */
  private async writeOnce(
    events: FlowEvent[],
    idempotence: { ttlSeconds: number; keyPrefix?: string },
  ): Promise<void> {
    const prefix = idempotence.keyPrefix ?? `flow:dedup:${this.config.stream}:`;
    const head = this.xaddHead().slice(1);
    const args: (string | number | Buffer)[] = [
      idempotence.ttlSeconds,
      this.config.createStream ? 0 : 1,
      head.length,
      ...head,
    ];
    for (const event of events) {
      const fields = streamEntryFields(event, this.config.mode);
      args.push(fields.length, ...fields);
    }
    const keys = [this.config.stream, ...events.map((event) => `${prefix}${event.id}`)];
    await this.redis.eval(XADD_ONCE, keys.length, ...keys, ...args);
  }

  private async waitForReplicas(wanted: number): Promise<void> {
    const acknowledged = Number(await this.redis.call("WAIT", wanted, this.config.waitTimeoutMs));
    if (acknowledged < wanted)
      throw new RetryableError(
        `written to the primary, but only ${acknowledged} of ${wanted} replica(s) acknowledged it within ${this.config.waitTimeoutMs} ms (WAIT)`,
      );
  }
}

/** KEYS: the stream, then one id key per event. ARGV: ttl, nomkstream, head length, head..., then per event: field count, fields... */
const XADD_ONCE = `
local ttl = ARGV[1]
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOSTREAM stream ' .. KEYS[1] .. ' does not exist (createStream is false)')
end
local headLength = tonumber(ARGV[3])
local head = {}
for i = 1, headLength do head[i] = ARGV[3 + i] end
local at = 4 + headLength
local added = 0
for k = 2, #KEYS do
  local count = tonumber(ARGV[at])
  if redis.call('EXISTS', KEYS[k]) == 0 then
    local command = { 'XADD', KEYS[1] }
    for _, part in ipairs(head) do command[#command + 1] = part end
    for j = at + 1, at + count do command[#command + 1] = ARGV[j] end
    redis.call(unpack(command))
    redis.call('SET', KEYS[k], '1', 'EX', ttl)
    added = added + 1
  end
  at = at + 1 + count
end
return added
`;

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
