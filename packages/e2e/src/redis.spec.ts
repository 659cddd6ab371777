import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { TEST_REDIS_URL, uniqueKey, withRedis } from "@flow/testing/redis";
import {
  expectExactlyOnceThroughServiceKills,
  expectNoneLostThroughCoreKill,
  type RoundTrip,
} from "./test-support/broker-round-trip";
import { tempDir } from "./test-support/temp-dir";

const repository = join(__dirname, "..", "..", "..");

/** redis-cli against the test server (the e2e package has no Redis client of its own). */
function redisCli(...args: string[]): string {
  return execFileSync("redis-cli", ["-u", TEST_REDIS_URL, ...args], {
    encoding: "utf8",
    timeout: 10_000,
  }).trim();
}

function trip(name: string, stream: string, total: number): RoundTrip {
  const url = JSON.stringify(TEST_REDIS_URL);
  return {
    name,
    total,
    rate: 10_000,
    defaults: "{ batch: { maxSize: 200 }, inFlight: 4, restart: { initialDelayMs: 50 } }",
    consumer: {
      main: join(repository, "consumers", "redis", "dist", "main.js"),
      config: `{ url: ${url}, stream: ${JSON.stringify(stream)} }`,
    },
    source: {
      main: join(repository, "sources", "redis", "dist", "main.js"),
      config: `{ url: ${url}, stream: ${JSON.stringify(stream)}, group: e2e, createGroup: true, blockMs: 200 }`,
    },
  };
}

withRedis(() => {
  describe("generator -> consumer-redis -> a Redis stream -> source-redis -> SQLite", () => {
    const dir = tempDir("redis");
    let stream: string;
    beforeEach(() => {
      stream = uniqueKey("e2e");
    });
    afterEach(() => {
      redisCli("DEL", stream);
    });
    afterAll(() => dir.remove());

    /** The group has read the whole stream and holds no entry unacknowledged (XPENDING 0). */
    const settled = async (): Promise<boolean> => {
      const groups = redisCli("XINFO", "GROUPS", stream).split("\n");
      const lag = groups[groups.indexOf("lag") + 1];
      return Number(redisCli("XPENDING", stream, "e2e").split("\n")[0]) === 0 && lag === "0";
    };

    it("100,000 events land exactly once in SQLite, through a SIGKILL of the Redis consumer and then of the Redis source", async () => {
      const round = trip("redis-round-trip", stream, 100_000);
      await expectExactlyOnceThroughServiceKills(dir, round, { settled });
      // Redis keeps no dedup: a batch the killed consumer had sent and not been answered for is appended again.
      expect(Number(redisCli("XLEN", stream))).toBeGreaterThanOrEqual(round.total);
      expect(await settled()).toBe(true);
    }, 120_000);

    it("a SIGKILL of Core mid-run, then a rerun: no id lost, XPENDING 0", async () => {
      const round = trip("redis-core-kill", stream, 20_000);
      await expectNoneLostThroughCoreKill(dir, round, { settled });
      expect(await settled()).toBe(true);
    }, 120_000);
  });
});
