import { UserError } from "@flow/errors";
import { dropSchema, uniqueTestSchema, urlWithSchema, withPostgres } from "@flow/testing";
import pg from "pg";
import { openStateStore } from "./open-state-store";

// What only the PostgreSQL store does: reaching a server, its schema, concurrent first opens.
describe("PostgreSQL state store", () => {
  it("reports an unreachable server as a user error naming host and port, never the password", async () => {
    const attempt = openStateStore("postgres://flow:hunter2@127.0.0.1:1/flow", { baseDir: "/" });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(
      "cannot reach the PostgreSQL state store at 127.0.0.1:1 (ECONNREFUSED)",
    );
    const error = (await attempt.catch((e: unknown) => e)) as UserError;
    expect(error.hint).toContain("postgres://flow:***@127.0.0.1:1/flow");
    expect(`${error.message} ${error.hint}`).not.toContain("hunter2");
  });

  it("reports a host name that does not resolve the same way", async () => {
    const attempt = openStateStore("postgresql://db.invalid:5433/flow", {
      baseDir: "/",
      connectTimeoutMs: 3000,
    });
    await expect(attempt).rejects.toThrow(
      /cannot reach the PostgreSQL state store at db\.invalid:5433 \(E[A-Z_]+\)/,
    );
  });

  withPostgres((serverUrl) => {
    const schema = uniqueTestSchema("flow_pg_spec");
    afterAll(() => dropSchema(serverUrl, schema));

    it("reports a missing database as a user error with a hint", async () => {
      const url = new URL(serverUrl);
      url.pathname = "/flow_no_such_database";
      const attempt = openStateStore(url.toString(), { baseDir: "/" });
      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(/database "flow_no_such_database" does not exist/);
    });

    it("creates its schema and tables once when several hosts open a new schema at the same moment", async () => {
      const url = urlWithSchema(serverUrl, schema);
      const stores = await Promise.all(
        Array.from({ length: 5 }, () => openStateStore(url, { baseDir: "/" })),
      );
      try {
        const client = new pg.Client({ connectionString: serverUrl });
        await client.connect();
        try {
          const migrations = await client.query(`SELECT version FROM "${schema}".schema_migrations`);
          expect(migrations.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
          const tables = await client.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
            [schema],
          );
          expect(tables.rows.map((r) => r.table_name)).toEqual([
            "checkpoints",
            "run_stages",
            "runs",
            "schema_migrations",
            "services",
          ]);
        } finally {
          await client.end();
        }
        expect(stores.map((s) => s.location)).toEqual(Array(5).fill(url));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
});
