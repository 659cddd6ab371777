/**
 * A column's value in an event's JSON, from PostgreSQL's text form of it. Both modes read every
 * value as text (query mode asks node-postgres for no parsing, pgoutput sends text), so what comes
 * out is exact and the same in both: booleans and the integer and float types that fit a JSON
 * number become one; json and jsonb their JSON; everything else (bigint, numeric, timestamps with
 * their microseconds, bytea as \x hex, arrays...) stays PostgreSQL's text, as node-postgres hands
 * out bigint and numeric. NULL is null.
 */
export function columnValue(typeOid: number, text: string | null): unknown {
  if (text === null) return null;
  switch (typeOid) {
    case BOOL:
      return text === "t";
    case INT2:
    case INT4:
    case OID:
      return Number(text);
    case FLOAT4:
    case FLOAT8: {
      const number = Number(text);
      // NaN and Infinity have no JSON number: their text is kept.
      return Number.isFinite(number) ? number : text;
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text);
    default:
      return text;
  }
}

// The built-in type oids (pg_type.dat), fixed across PostgreSQL versions.
const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const JSON_OID = 114;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSONB = 3802;
