import { randomBytes } from "node:crypto";
import { startTcpProxy } from "@flow/testing";
import mysql from "mysql2/promise";
import { type MysqlSession, type MysqlSessionOptions, openMysqlSession } from "./mysql-session";
import {
  type CommandHoldingProxy,
  serverOf,
  startCommandHoldingProxy,
  urlThrough,
} from "./test-support/command-holding-proxy";
import { leftOpenBy } from "./test-support/left-open";
import { withMariadb } from "./test-support/mariadb-for-tests";

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
    const left = await leftOpenBy(async () => {
      const { inserted, thread } = await insertWaitingForLock(session, "killed");
      await db.query(`KILL ${thread}`);
      await expect(inserted).rejects.toMatchObject({ fatal: true, code: "PROTOCOL_CONNECTION_LOST" });
    });
    // mysql2 clears its own `timeout` timer on an answer, not when the connection dies under the
    // query: that timer held the query (and its connection) and the process for statementTimeoutMs.
    expect(left.timers).toBe(0);
    // The session knows its connection is gone and says so at once.
    await expect(session.rollback()).rejects.toMatchObject({ code: "PROTOCOL_CONNECTION_LOST" });
  });

  it("fails a statement unanswered for statementTimeoutMs, naming the setting, and leaves no timer pending", async () => {
    const session = await open({ statementTimeoutMs: 200 });
    const left = await leftOpenBy(async () => {
      const { inserted } = await insertWaitingForLock(session, "held");
      await expect(inserted).rejects.toThrow(/statementTimeoutMs \(200 ms\)/);
    });
    expect(left.timers).toBe(0);
    await expect(session.commit()).rejects.toThrow(/statementTimeoutMs \(200 ms\)/);
  });

  describe("across a partition", () => {
    let proxy: CommandHoldingProxy | undefined;
    afterEach(() => proxy?.close());
    /** The test server's URL through a proxy that goes silent after `forwardCommands` commands. */
    const silentAfter = async (forwardCommands: number): Promise<string> => {
      proxy = await startCommandHoldingProxy(serverOf(url), forwardCommands);
      return urlThrough(url, proxy);
    };

    it("fails a connect whose handshake does not come within connectTimeoutMs, naming it, and leaves no timer and no socket open", async () => {
      const held = await startTcpProxy(serverOf(url));
      try {
        // Connections are accepted and held: no greeting ever comes.
        held.hold();
        const left = await leftOpenBy(async () => {
          await expect(open({ url: urlThrough(url, held), connectTimeoutMs: 200 })).rejects.toThrow(
            /connectTimeoutMs \(200 ms\)/,
          );
        });
        expect(left).toEqual({ timers: 0, sockets: 0 });
      } finally {
        await held.close();
      }
    });

    // The server goes silent right after the handshake, or after the first setup statements: the
    // TCP connection stays open and nothing answers (a half-open connection).
    it.each([
      ["SET SESSION", 0],
      ["CREATE TABLE", 1],
      ["SELECT @@max_allowed_packet", 2],
    ])(
      "fails a setup statement (%s) unanswered for statementTimeoutMs, and leaves no timer and no socket open",
      async (statement, forwardCommands) => {
        const silent = await silentAfter(forwardCommands);
        const left = await leftOpenBy(async () => {
          const opening = open({
            url: silent,
            statementTimeoutMs: 200,
            // The table exists: the CREATE changes nothing when it is answered.
            createTableSql: `CREATE TABLE IF NOT EXISTS ${table} (id varchar(64) PRIMARY KEY) ENGINE=InnoDB`,
          });
          expect(await proxy?.held).toMatch(new RegExp(`^${statement}`));
          await expect(opening).rejects.toThrow(
            `no answer to the session's setup (${statement}) within statementTimeoutMs (200 ms)`,
          );
        });
        expect(left).toEqual({ timers: 0, sockets: 0 });
      },
    );

    it("closes the socket of a session whose statement goes unanswered", async () => {
      const silent = await silentAfter(2);
      const left = await leftOpenBy(async () => {
        const session = await open({ url: silent, statementTimeoutMs: 200 });
        await expect(session.begin()).rejects.toThrow(/statementTimeoutMs \(200 ms\)/);
        expect(await proxy?.held).toBe("START TRANSACTION");
      });
      // mysql2's destroy() only ends the socket: it stayed open, half-closed, waiting for the
      // server's end of it, which a partition never delivers.
      expect(left).toEqual({ timers: 0, sockets: 0 });
    });
  });
});
