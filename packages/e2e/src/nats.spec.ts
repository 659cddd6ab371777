import { withMachineRequirement } from "@flow/testing";
import {
  createTestStream,
  NATS_HOW_TO_FIX,
  natsForTests,
  TEST_NATS_URL,
  type TestStream,
} from "@flow/testing/nats";
import {
  expectExactlyOnceThroughServiceKills,
  expectNoneLostThroughCoreKill,
  type RoundTrip,
  SOURCE_STAGE,
} from "./test-support/broker-round-trip";
import { serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

function trip(name: string, stream: string, total: number): RoundTrip {
  const servers = `[${JSON.stringify(TEST_NATS_URL)}]`;
  return {
    name,
    total,
    rate: 10_000,
    defaults: "{ batch: { maxSize: 100 }, inFlight: 8, restart: { initialDelayMs: 50 } }",
    consumer: {
      main: serviceMain("@flow/consumer-nats"),
      config: `{ servers: ${servers}, subject: ${stream}.orders, stream: ${stream} }`,
    },
    source: {
      main: serviceMain("@flow/source-nats"),
      config: `{ servers: ${servers}, stream: ${stream}, ackWaitMs: 2000 }`,
    },
  };
}

withMachineRequirement("NATS JetStream", natsForTests(), NATS_HOW_TO_FIX, () => {
  describe("generator → consumer-nats → JetStream → source-nats → SQLite", () => {
    const dir = tempDir("nats");
    let stream: TestStream;
    beforeEach(async () => {
      stream = await createTestStream("e2e");
    });
    afterEach(() => stream.remove());
    afterAll(() => dir.remove());

    /** The source's durable consumer has nothing more to deliver and nothing unacknowledged. */
    const settled = async (): Promise<boolean> => {
      const consumer = await stream.jsm.consumers.info(stream.name, `flow-${SOURCE_STAGE}`);
      return consumer.num_pending === 0 && consumer.num_ack_pending === 0;
    };

    /** Nats-Msg-Id kept the stream free of duplicates; every message was acknowledged after its commit. */
    async function expectStreamSettled(total: number): Promise<void> {
      expect((await stream.jsm.streams.info(stream.name)).state.messages).toBe(total);
      const consumer = await stream.jsm.consumers.info(stream.name, `flow-${SOURCE_STAGE}`);
      expect(consumer.num_pending).toBe(0);
      expect(consumer.num_ack_pending).toBe(0);
    }

    it("100,000 events land exactly once in SQLite, through a SIGKILL of the NATS consumer and then of the NATS source", async () => {
      const round = trip("nats-round-trip", stream.name, 100_000);
      await expectExactlyOnceThroughServiceKills(dir, round, { settled });
      await expectStreamSettled(round.total);
    }, 120_000);

    it("a SIGKILL of Core mid-run, then a rerun: no id lost, none left unacknowledged", async () => {
      const round = trip("nats-core-kill", stream.name, 20_000);
      await expectNoneLostThroughCoreKill(dir, round, { settled });
      await expectStreamSettled(round.total);
    }, 120_000);
  });
});
