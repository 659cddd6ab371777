/**
 * Room left in a statement for what travels with its SQL in one client packet (the COM_QUERY
 * command byte); generous, as an estimate may not be short.
 */
const PACKET_HEADROOM_BYTES = 1024;

/**
 * A row whose INSERT alone is over the server's max_allowed_packet: the server would refuse
 * every statement holding it, and drop the connection (ER_NET_PACKET_TOO_LARGE), on every retry.
 * mysqlErrors reads it as a refused row, so the event is dead-lettered and the others written.
 */
export class RowTooLargeError extends Error {
  constructor(
    readonly eventId: string,
    statementBytes: number,
    maxAllowedPacket: number,
  ) {
    super(
      `its row makes an INSERT of ${statementBytes} bytes, more than the server's max_allowed_packet (${maxAllowedPacket}) lets one statement be: raise max_allowed_packet on the server to store such events`,
    );
    this.name = "RowTooLargeError";
  }
}

/** One row's `(v1, v2, ...)` as the connection escapes it, and whose event it is. */
export interface RowTuple {
  eventId: string;
  sql: string;
}

/**
 * The INSERT statements that write `rows`, as few as possible, each within the server's
 * max_allowed_packet (counted in bytes of UTF-8, as it goes on the wire): `prefix` ends with
 * `VALUES `, `suffix` follows the tuples (ON DUPLICATE KEY UPDATE ...). Throws RowTooLargeError
 * for a row that fits no statement.
 */
export function insertStatements(
  prefix: string,
  suffix: string,
  rows: RowTuple[],
  maxAllowedPacket: number,
): string[] {
  const budget = maxAllowedPacket - PACKET_HEADROOM_BYTES;
  const fixed = Buffer.byteLength(prefix, "utf8") + Buffer.byteLength(suffix, "utf8");
  const statements: string[] = [];
  let tuples: string[] = [];
  let bytes = fixed;
  for (const row of rows) {
    const rowBytes = Buffer.byteLength(row.sql, "utf8");
    if (fixed + rowBytes > budget)
      throw new RowTooLargeError(row.eventId, fixed + rowBytes, maxAllowedPacket);
    const separator = tuples.length > 0 ? 2 : 0; // ", "
    if (bytes + separator + rowBytes > budget) {
      statements.push(prefix + tuples.join(", ") + suffix);
      tuples = [];
      bytes = fixed;
    }
    bytes += (tuples.length > 0 ? 2 : 0) + rowBytes;
    tuples.push(row.sql);
  }
  if (tuples.length > 0) statements.push(prefix + tuples.join(", ") + suffix);
  return statements;
}
