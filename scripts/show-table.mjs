#!/usr/bin/env node
import { existsSync } from "node:fs";
// Prints a few rows and the row count of a table in a SQLite file written by @flow/consumer-sqlite.
// Usage: node scripts/show-table.mjs <file.db> [table] [rows]
import { createRequire } from "node:module";

const require = createRequire(new URL("../consumers/sqlite/package.json", import.meta.url));
const Database = require("better-sqlite3");
const [file, table = "events", limit = "5"] = process.argv.slice(2);
if (!file || !existsSync(file)) {
  console.error(
    `error: ${file ?? "(no file given)"}: no such SQLite file\n  hint: run the pipeline first: npx pnpm quickstart`,
  );
  process.exit(2);
}
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
  console.error(`error: "${table}" is not a table name`);
  process.exit(2);
}
const db = new Database(file, { readonly: true });
const { n } = db.prepare(`select count(*) as n from "${table}"`).get();
console.log(`${file}: ${n} rows in ${table}`);
console.table(db.prepare(`select * from "${table}" order by rowid limit ?`).all(Number(limit)));
db.close();
