import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { type MysqlSession, type MysqlSessionOptions, openMysqlSession } from "./mysql-session";
import { withMariadb } from "./test-support/mariadb-for-tests";

/**
 * The timers `body` (and all it calls, mysql2 included) created that are still pending once it
 * has settled, found by async_hooks: jest's own timers come and go beside it.
 */
async function timersLeftPendingBy(body: () => Promise<void>): Promise<number> {
  const scope = new AsyncLocalStorage<true>();
  const pending = new Set<number>();
  const hook = createHook({
    init: (id, type) => type === "Timeout" && scope.getStore() && pending.add(id),
    destroy: (id) => pending.delete(id),
  }).enable();
  try {
    await scope.run(true, body);
    // Node runs the destroy hooks of cleared timers in the next check phase, before this immediate.
    await new Promise((resolve) => setImmediate(resolve));
    return pending.size;
  } finally {
    hook.disable();
  }
}

withMariadb((url) => {
  /** A table of this file's own in the test database, dropped after. */
  const name = `flow_mysql_session_${process.pid}_${randomBytes(4).toString("hex")}`;
  const table = `test.${name}`;
  let db: mysql.Connection;
  const sessions: MysqlSession[] = [];
  const open = async (options: Partial<MysqlSessionOptions> = {}): Promise<MysqlSession> => {
    const session = await openMysqlSession({
      url,
      table,
      shape: { columns: ["id"], key: ["id"], updated: [] },
      fixedColumns: false,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 30_000,
      ...options,
    });
    sessions.push(session);
    return session;
  };

  /**
   * Holds the row lock of `id` in db's open transaction, starts the session's INSERT of the same
   * id, which waits for that lock, and resolves with the server's id of the waiting connection.
   */
  const insertWaitingForLock = async (session: MysqlSession, id: string) => {
    await db.query("START TRANSACTION");
    await db.query(`INSERT INTO ${table} (id) VALUES (?)`, [id]);
    await session.begin();
    const inserted = session.insertAll([{ eventId: id, values: [id] }]);
    inserted.catch(() => undefined);
    let waiting: { id: number } | undefined;
    while (!waiting) {
      [waiting] = (
        await db.query(
          `SELECT ID AS id FROM information_schema.PROCESSLIST
            WHERE COMMAND = 'Query' AND INFO LIKE ? AND ID <> CONNECTION_ID()`,
          [`INSERT INTO %${name}%`],
        )
      )[0] as { id: number }[];
    }
    return { inserted, thread: waiting.id };
  };

  beforeAll(async () => {
    db = await mysql.createConnection({ uri: url });
    await db.query(`CREATE TABLE ${table} (id varchar(64) PRIMARY KEY) ENGINE=InnoDB`);
  });
  afterEach(async () => {
    await db.query("ROLLBACK");
    await Promise.all(sessions.splice(0).map((session) => session.close()));
  });
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  });

  it("leaves no timer pending when the connection is killed under a statement", async () => {
    const session = await open();
    const left = await timersLeftPendingBy(async () => {
      const { inserted, thread } = await insertWaitingForLock(session, "killed");
      await db.query(`KILL ${thread}`);
      await expect(inserted).rejects.toMatchObject({ fatal: true, code: "PROTOCOL_CONNECTION_LOST" });
    });
    // mysql2 clears its own `timeout` timer on an answer, not when the connection dies under the
    // query: that timer held the query (and its connection) and the process for statementTimeoutMs.
    expect(left).toBe(0);
    // The session knows its connection is gone and says so at once.
    await expect(session.rollback()).rejects.toMatchObject({ code: "PROTOCOL_CONNECTION_LOST" });
  });

  it("fails a statement unanswered for statementTimeoutMs, naming the setting, and leaves no timer pending", async () => {
    const session = await open({ statementTimeoutMs: 200 });
    const left = await timersLeftPendingBy(async () => {
      const { inserted } = await insertWaitingForLock(session, "held");
      await expect(inserted).rejects.toThrow(/statementTimeoutMs \(200 ms\)/);
    });
    expect(left).toBe(0);
    await expect(session.commit()).rejects.toThrow(/statementTimeoutMs \(200 ms\)/);
  });
});
