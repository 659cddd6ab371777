import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import pg from "pg";
import {
  type PrivatePostgresCluster,
  startPrivatePostgresCluster,
  withPrivatePostgres,
} from "./private-postgres-cluster";

const clusterFolders = (): string[] =>
  readdirSync(tmpdir()).filter((name) => name.startsWith("flow-private-postgres-"));

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

withPrivatePostgres(() => {
  let cluster: PrivatePostgresCluster | undefined;
  afterAll(() => cluster?.stop());

  it("starts a cluster of its own with wal_level=logical on a free port, and removes it on stop", async () => {
    cluster = await startPrivatePostgresCluster({ settings: { max_connections: "30" } });
    expect(cluster.port).toBeGreaterThan(0);
    expect(cluster.port).not.toBe(5432);
    expect(
      await query(
        cluster.url,
        "SELECT current_setting('wal_level') AS wal, current_setting('max_connections') AS max",
      ),
    ).toEqual([{ wal: "logical", max: "30" }]);
    // Its unix socket is in its own folder.
    expect(readdirSync(cluster.dir)).toContain(`.s.PGSQL.${cluster.port}`);
    const { dir, url } = cluster;
    await cluster.stop();
    expect(existsSync(dir)).toBe(false);
    await expect(query(url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
  }, 120_000);

  it("leaves nothing behind when the server cannot start", async () => {
    const before = clusterFolders();
    await expect(startPrivatePostgresCluster({ settings: { wal_level: "bogus" } })).rejects.toThrow(
      /did not start[\s\S]*wal_level/,
    );
    expect(clusterFolders().filter((name) => !before.includes(name))).toEqual([]);
  }, 120_000);
});
