import pg from "pg";

/**
 * Every session of this source: UTC and ISO dates, so the text of a timestamp (a cursor value, a
 * column in an event) is the same in every session and reads back as the same value.
 */
const SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601";

/**
 * A connected client. It has an 'error' listener from the start: without one, node-postgres
 * crashes the process when the server goes away between queries; the failure then shows as the
 * next query's rejection, which fails the read stream (Core restarts it from the checkpoint).
 */
export async function connectPostgres(
  url: string,
  options: { replication?: boolean; connectTimeoutMs?: number; applicationName: string },
): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(url, options));
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

export function clientConfig(
  url: string,
  options: { replication?: boolean; connectTimeoutMs?: number; applicationName: string },
): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: options.applicationName,
    options: SESSION_OPTIONS,
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    ...(options.replication ? { replication: "database" } : {}),
  } as pg.ClientConfig;
}

/** Values as PostgreSQL's text, unparsed: see columnValue. */
export const TEXT_VALUES = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;
