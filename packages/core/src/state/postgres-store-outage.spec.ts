import { randomUUID } from "node:crypto";
import {
  dropSchema,
  startTcpProxy,
  type TcpProxy,
  uniqueTestSchema,
  urlWithSchema,
  withPostgres,
} from "@flow/testing";
import pg from "pg";
import { openStateStore } from "./open-state-store";
import type { StateStore } from "./state-store";
import { StoreUnavailableError } from "./store-errors";

// The network between the store and the real shared PostgreSQL breaks for real (a TCP proxy the test
// owns resets or silences every connection); the server itself is never stopped.
describe("PostgreSQL state store when the server goes away", () => {
  withPostgres((serverUrl) => {
    const schema = uniqueTestSchema("flow_pg_outage");
    let proxy: TcpProxy;
    let store: StateStore;
    let direct: pg.Client;
    let runId: string;
    let sequence = 100;

    const stage = { stageId: "s", eventsIn: 1, eventsOut: 1, deadLetters: 0, restarts: 0, errors: 0 };
    const commit = (sequence: number) =>
      store.commitCheckpoint({
        pipeline: "p",
        sourceId: "s",
        position: Buffer.from([sequence]),
        description: `#${sequence}`,
        runId,
        sequence,
      });

    /** Every kind of store call, reads and writes, with the pool's connections in whatever state the network left them. */
    const everyCall = (): [string, () => Promise<unknown>][] => [
      ["commitCheckpoint", () => commit(++sequence)],
      ["getCheckpoint", () => store.getCheckpoint("p", "s")],
      ["listCheckpoints", () => store.listCheckpoints()],
      ["startRun", () => store.startRun(`other-${randomUUID()}`, "other.yaml")],
      ["heartbeatRun", () => store.heartbeatRun(runId)],
      ["saveStageStats", () => store.saveStageStats(runId, [{ ...stage, health: "serving" }])],
      ["listRuns", () => store.listRuns()],
      ["registerService", () => store.registerService({ name: "svc", address: "h:1", component: {} })],
      ["listServices", () => store.listServices()],
    ];

    beforeAll(async () => {
      const server = new URL(serverUrl);
      proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
      const throughProxy = new URL(urlWithSchema(serverUrl, schema));
      throughProxy.hostname = proxy.host;
      throughProxy.port = String(proxy.port);
      store = await openStateStore(throughProxy.toString(), {
        baseDir: "/",
        connectTimeoutMs: 2000,
        queryTimeoutMs: 1500,
      });
      direct = new pg.Client({ connectionString: serverUrl });
      await direct.connect();
    });

    afterAll(async () => {
      await store?.close().catch(() => {});
      await proxy?.close();
      await direct?.end();
      await dropSchema(serverUrl, schema);
    });

    beforeEach(async () => {
      proxy.restore();
      const [live] = (await store.listRuns({ pipeline: "p" })).filter((run) => run.status === "running");
      runId = live?.runId ?? (await store.startRun("p", "p.yaml"));
    });

    it("rejects every call with StoreUnavailableError while cut, idle connections included, and works again once restored", async () => {
      expect((await commit(1)).committed).toBe(true);
      // Several calls at once leave several idle connections in the pool, all of them cut below.
      await Promise.all(everyCall().map(([, call]) => call()));
      expect(proxy.connectionCount).toBeGreaterThan(1);

      proxy.cut();
      for (const [name, call] of everyCall()) {
        const error = await call().then(
          () => new Error(`${name} succeeded while the server was unreachable`),
          (e: unknown) => e,
        );
        expect({ name, error }).toEqual({ name, error: expect.any(StoreUnavailableError) });
        const unavailable = error as StoreUnavailableError;
        expect(unavailable.message).toContain(`the state store at ${store.location} is unavailable: `);
        expect(unavailable.location).toBe(store.location);
        expect(unavailable.cause).toBeDefined();
        expect(unavailable.message).not.toMatch(/\n\s+at /);
      }

      proxy.restore();
      for (const [, call] of everyCall()) await call();
      expect(await store.getCheckpoint("p", "s")).toMatchObject({ sequence });
    });

    it("does not crash when the connection breaks in the middle of a transaction", async () => {
      // Hold the claim lock of pipeline "blocked" on a direct connection, so the store's startRun
      // waits inside its transaction, on a checked-out connection, when the network is cut.
      await direct.query("SELECT pg_advisory_lock(hashtext($1), hashtext('blocked'))", [
        `flow run claim ${schema}`,
      ]);
      try {
        const claim = store.startRun("blocked", "blocked.yaml").catch((e: unknown) => e);
        await waitUntil(async () => {
          const waiting = await direct.query(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid <> pg_backend_pid()",
          );
          return (waiting.rowCount ?? 0) > 0;
        });
        proxy.cut();
        expect(await claim).toBeInstanceOf(StoreUnavailableError);
      } finally {
        await direct.query("SELECT pg_advisory_unlock_all()");
      }
      proxy.restore();
      expect(await store.startRun("blocked", "blocked.yaml")).toEqual(expect.any(String));
    });

    it("ends a call on a connection that went silent (half-open) with StoreUnavailableError, then recovers", async () => {
      await commit(++sequence);
      proxy.hold();
      const error = await commit(++sequence).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toMatch(/Query read timeout|timeout/);
      proxy.restore();
      expect((await commit(++sequence)).committed).toBe(true);
    });
  });
});

/** Re-checks `condition` until it holds: what the test waits for happens in another session of the server. */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve));
}
