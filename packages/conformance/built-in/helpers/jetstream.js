#!/usr/bin/env node
// NATS JetStream for the conformance configs of @flow/source-nats and @flow/consumer-nats (the
// machine has no `nats` CLI). Run in the folder of a service that depends on the `nats` package:
// the kit runs a config's commands in the service's package.
//
//   node jetstream.js add-stream <stream> <subject>   a file-backed stream of its own
//   node jetstream.js delete-stream <stream>          and everything in it (missing: fine)
//   node jetstream.js publish <subject>               each stdin line as {"key":"<line>"}, each PubAck awaited
//
// FLOW_CONFORM_NATS (default nats://127.0.0.1:4222) names the server.
const { createInterface } = require("node:readline");

const { connect, JSONCodec } = require(require.resolve("nats", { paths: [process.cwd()] }));
const servers = process.env.FLOW_CONFORM_NATS || "nats://127.0.0.1:4222";

const commands = {
  async "add-stream"(nc, stream, subject) {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject] });
  },
  async "delete-stream"(nc, stream) {
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.delete(stream);
    } catch (error) {
      if (!/not found/i.test(error.message)) throw error;
    }
  },
  async publish(nc, subject) {
    const js = nc.jetstream();
    const codec = JSONCodec();
    for await (const line of createInterface({ input: process.stdin })) {
      if (line !== "") await js.publish(subject, codec.encode({ key: line }));
    }
  },
};

async function main() {
  const [name, ...args] = process.argv.slice(2);
  const command = commands[name];
  if (!command || args.length === 0)
    throw new Error(`usage: jetstream.js ${Object.keys(commands).join("|")} <stream or subject> [subject]`);
  const nc = await connect({ servers });
  try {
    await command(nc, ...args);
  } finally {
    await nc.close();
  }
}

main().catch((error) => {
  process.stderr.write(`jetstream.js ${process.argv.slice(2).join(" ")}: ${error.message}\n`);
  process.exit(1);
});
