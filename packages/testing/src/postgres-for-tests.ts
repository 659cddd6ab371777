import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The rule for tests that need PostgreSQL, written once:
 * - the server is FLOW_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test;
 * - when it does not answer and CI is not "true", the tests are skipped with a loud warning;
 * - when it does not answer under CI=true, that is a test failure, never a skip.
 */
export const DEFAULT_TEST_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

export type PostgresForTests =
  | { available: true; url: string }
  | { available: false; url: string; reason: string };

let probed: PostgresForTests | undefined;

/**
 * Whether the test server answers `SELECT 1`. Synchronous (a short child process), because jest
 * decides which tests exist while loading the file, before any async hook could run.
 */
export function postgresForTests(): PostgresForTests {
  if (probed) return probed;
  const url = process.env.FLOW_TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
  const probe = `
    const { Client } = require(${JSON.stringify(require.resolve("pg"))});
    const client = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    client.connect()
      .then(() => client.query("SELECT 1"))
      .then(() => client.end())
      .catch((error) => { process.stderr.write(String(error.message || error.code || error)); process.exit(1); });
  `;
  try {
    execFileSync(process.execPath, ["-e", probe], {
      env: { ...process.env, PROBE_URL: url },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    probed = { available: true, url };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    probed = { available: false, url, reason: stderr || String(error) };
  }
  return probed;
}

/**
 * Registers the tests `body` defines when PostgreSQL answers. Otherwise registers, in their place,
 * a failing test under CI=true or a skipped one (after a loud warning) elsewhere.
 */
export function withPostgres(body: (url: string) => void): void {
  const server = postgresForTests();
  if (server.available) {
    body(server.url);
    return;
  }
  const what = `PostgreSQL at ${withoutPassword(server.url)} is not reachable: ${server.reason}`;
  if (process.env.CI === "true") {
    test("PostgreSQL is reachable (required when CI=true)", () => {
      throw new Error(
        `${what}. Under CI=true the PostgreSQL tests must run; start the server or set FLOW_TEST_POSTGRES_URL.`,
      );
    });
    return;
  }
  console.warn(
    `\n${"!".repeat(78)}\n!! SKIPPING PostgreSQL tests: ${what}\n!! Start PostgreSQL (or set FLOW_TEST_POSTGRES_URL); under CI=true this fails.\n${"!".repeat(78)}\n`,
  );
  test.skip(`SKIPPED, ${what}`, () => {});
}

/** describe() whose tests run only with PostgreSQL, by the rule above. */
export function describeWithPostgres(name: string, body: (url: string) => void): void {
  describe(name, () => withPostgres(body));
}

/** A schema name of its own for one test file, so parallel test files never see each other's rows. */
export function uniqueTestSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");
}

/** `url` with a `schema` parameter, as the PostgreSQL state store reads it. */
export function urlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
}

/** The URL without its password, for messages. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Drops a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}
