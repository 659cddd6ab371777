import type { ConnectionOptions } from "nats";
import type { NatsConsumerConfig } from "./nats-consumer-config";

/**
 * The client's options for a configuration. Reconnects without end (the client's default stops
 * after 10 attempts, after which every batch would fail until the stream is restarted).
 */
export function connectOptions(config: NatsConsumerConfig, name: string): ConnectionOptions {
  const auth =
    config.token !== undefined
      ? { token: config.token }
      : config.user !== undefined
        ? { user: config.user, pass: config.password }
        : {};
  return { servers: config.servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, ...auth };
}
