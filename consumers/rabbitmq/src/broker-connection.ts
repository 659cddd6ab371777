import { type ConfigIssue, errorIssue } from "@flow/sdk";
import { type ChannelModel, connect } from "amqplib";
import type { RabbitmqConsumerConfig } from "./rabbitmq-consumer-config";

/** The URL with the heartbeat asked for (amqplib reads it from the query). */
export function urlWithHeartbeat(url: string, heartbeatSeconds: number): string {
  const withHeartbeat = new URL(url);
  withHeartbeat.searchParams.set("heartbeat", String(heartbeatSeconds));
  return withHeartbeat.toString();
}

/** Host, port and vhost of the URL, never its credentials. */
function where(url: string): string {
  const { protocol, host, pathname } = new URL(url);
  return `${protocol}//${host}${pathname}`;
}

/** A failed connection in words: refused, unknown host, credentials or vhost refused. */
export function connectionProblem(url: string, error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED" || code === "ECONNRESET")
    return `cannot reach RabbitMQ at ${where(url)}: ${code}`;
  if (code === "ENOTFOUND") return `cannot reach RabbitMQ at ${where(url)}: unknown host`;
  if (/ACCESS.REFUSED/.test(error.message))
    return `RabbitMQ at ${where(url)} refused the credentials: ${error.message}`;
  return `cannot connect to RabbitMQ at ${where(url)}: ${error.message}`;
}

/**
 * What stops this configuration from publishing, asked of the broker without changing anything:
 * it answers and takes the credentials (/url); the exchange exists (/exchange); with the default
 * exchange, the queue the routing key names exists (/routingKey).
 */
export async function publishIssues(config: RabbitmqConsumerConfig): Promise<ConfigIssue[]> {
  if (config.exchange === "" && config.routingKey === "" && config.routingKeyAttribute === undefined)
    return [
      errorIssue("/routingKey", 'with the default exchange ("") the routing key names the queue: set it'),
    ];
  let connection: ChannelModel;
  try {
    connection = await connect(config.url, { timeout: 5000 });
  } catch (error) {
    return [errorIssue("/url", connectionProblem(config.url, error as Error))];
  }
  connection.on("error", () => undefined);
  try {
    // A failed passive declare closes the channel it runs on: one channel per question.
    const answers = async (
      ask: (channel: Awaited<ReturnType<ChannelModel["createChannel"]>>) => Promise<unknown>,
    ) => {
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      return ask(channel).then(
        () => channel.close().then(() => true),
        () => false,
      );
    };
    if (config.exchange !== "") {
      if (!(await answers((channel) => channel.checkExchange(config.exchange))))
        return [
          errorIssue("/exchange", `exchange "${config.exchange}" does not exist on ${where(config.url)}`),
        ];
    } else if (
      config.routingKey !== "" &&
      !(await answers((channel) => channel.checkQueue(config.routingKey)))
    ) {
      return [
        errorIssue(
          "/routingKey",
          `queue "${config.routingKey}" does not exist on ${where(config.url)} (the default exchange routes by queue name)`,
        ),
      ];
    }
    return [];
  } finally {
    await connection.close().catch(() => undefined);
  }
}
