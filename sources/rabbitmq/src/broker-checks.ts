import { type ConfigIssue, errorIssue } from "@flow/sdk";
import { type ChannelModel, connect } from "amqplib";
import type { RabbitmqSourceConfig } from "./rabbitmq-source-config";

/** The broker's address for messages: the URL without its password. */
export function brokerName(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    parsed.username = "";
    return parsed.toString();
  } catch {
    return "the broker";
  }
}

/** The URL with the heartbeat the config asks for (amqplib reads it from the query). */
export function urlWithHeartbeat(url: string, heartbeatSeconds: number): string {
  const parsed = new URL(url);
  parsed.searchParams.set("heartbeat", String(heartbeatSeconds));
  return parsed.toString();
}

/** Why a connection failed, in words: refused, unknown host, bad credentials, no such vhost. */
export function connectionProblem(url: string, error: Error): string {
  const where = brokerName(url);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED") return `cannot reach RabbitMQ at ${where}: connection refused`;
  if (code === "ENOTFOUND") return `cannot reach RabbitMQ at ${where}: unknown host`;
  if (/ACCESS_REFUSED|ACCESS-REFUSED/.test(error.message))
    return `RabbitMQ at ${where} refused the credentials: ${error.message}`;
  if (/NOT_ALLOWED|vhost/i.test(error.message))
    return `RabbitMQ at ${where} refused the virtual host: ${error.message}`;
  return `cannot connect to RabbitMQ at ${where}: ${error.message}`;
}

/**
 * What stops this configuration from reading, checked on the broker itself without changing
 * anything: the broker answers and takes the credentials (at /url), the queue exists unless it
 * is to be declared (at /queue), an exchange that is not to be declared exists (at /exchange/name).
 */
export async function brokerIssues(config: RabbitmqSourceConfig): Promise<ConfigIssue[]> {
  let connection: ChannelModel;
  try {
    connection = await connect(config.url, { timeout: 5000 });
  } catch (error) {
    return [errorIssue("/url", connectionProblem(config.url, error as Error))];
  }
  connection.on("error", () => undefined);
  const issues: ConfigIssue[] = [];
  // A failed passive declare closes its channel: one channel per check.
  const exists = async (
    check: (channel: Awaited<ReturnType<ChannelModel["createChannel"]>>) => Promise<unknown>,
  ) => {
    const channel = await connection.createChannel();
    channel.on("error", () => undefined);
    try {
      await check(channel);
      await channel.close();
      return true;
    } catch {
      return false;
    }
  };
  try {
    if (!config.declareQueue && !(await exists((channel) => channel.checkQueue(config.queue)))) {
      issues.push(
        errorIssue(
          "/queue",
          `queue "${config.queue}" does not exist on ${brokerName(config.url)}; create it or set declareQueue: true`,
        ),
      );
    }
    const exchange = config.exchange;
    if (exchange && !exchange.declare && !(await exists((channel) => channel.checkExchange(exchange.name)))) {
      issues.push(
        errorIssue(
          "/exchange/name",
          `exchange "${exchange.name}" does not exist on ${brokerName(config.url)}; create it or set declare: true`,
        ),
      );
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return issues;
}
