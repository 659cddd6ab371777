#!/usr/bin/env node
// RabbitMQ for the conformance configs of @flow/source-rabbitmq and @flow/consumer-rabbitmq. Run
// in the folder of a service that depends on `amqplib` (the kit runs a config's commands in the
// service's package).
//
//   node amqp.js declare-queue <queue>   a durable classic queue of its own
//   node amqp.js delete-queue <queue>    and what it holds (missing: fine)
//   node amqp.js publish <queue>         each stdin line as {"key":"<line>"}, persistent, confirmed
//
// FLOW_CONFORM_AMQP (default amqp://guest:guest@127.0.0.1:5672) names the broker.
const { createInterface } = require("node:readline");

const { connect } = require(require.resolve("amqplib", { paths: [process.cwd()] }));
const url = process.env.FLOW_CONFORM_AMQP || "amqp://guest:guest@127.0.0.1:5672";

const commands = {
  async "declare-queue"(channel, queue) {
    await channel.assertQueue(queue, { durable: true });
  },
  async "delete-queue"(channel, queue) {
    // queue.delete of a missing queue succeeds (AMQP 0-9-1 as RabbitMQ implements it).
    await channel.deleteQueue(queue);
  },
  async publish(channel, queue) {
    for await (const line of createInterface({ input: process.stdin })) {
      if (line === "") continue;
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ key: line })), {
        persistent: true,
        contentType: "application/json",
      });
    }
    await channel.waitForConfirms();
  },
};

async function main() {
  const [name, queue] = process.argv.slice(2);
  const command = commands[name];
  if (!command || !queue) throw new Error(`usage: amqp.js ${Object.keys(commands).join("|")} <queue>`);
  const connection = await connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    await command(channel, queue);
    await channel.close();
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  process.stderr.write(`amqp.js ${process.argv.slice(2).join(" ")}: ${error.message}\n`);
  process.exit(1);
});
