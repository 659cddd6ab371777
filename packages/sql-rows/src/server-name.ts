/**
 * A database as messages name it, from its URL without user or password:
 * `PostgreSQL at 127.0.0.1:5432/test`.
 */
export function serverName(system: string, url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    return `${system} at ${parsed.hostname || "localhost"}:${parsed.port || defaultPort}${database ? `/${database}` : ""}`;
  } catch {
    return system;
  }
}
