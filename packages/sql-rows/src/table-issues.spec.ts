import { errorIssue } from "@flow/sdk";
import type { SqlTableConfig } from "./sql-table-config";
import { tableConfigIssues, tableShapeIssues } from "./table-issues";

const config = (more: Partial<SqlTableConfig> = {}): SqlTableConfig => ({
  table: "orders",
  createTable: false,
  key: ["id"],
  onConflict: "nothing",
  timeoutMs: 1000,
  ...more,
});
const where = { database: "DB at h:1/d", ignoreCase: false };
const FIXED = ["id", "type", "source", "time", "attributes", "data", "data_binary"];

describe("table issues", () => {
  it("finds a bad expression and a key outside the columns without a database", () => {
    expect(tableConfigIssues(config({ columns: { "a/b": "data.(", c: "1" }, key: ["c", "id"] }))).toEqual([
      expect.objectContaining({
        path: "/columns/a~1b",
        message: expect.stringContaining("JSONata syntax error"),
      }),
      expect.objectContaining({
        path: "/key/1",
        message: "key column id is not one of the row's columns (a/b, c)",
      }),
    ]);
    expect(tableConfigIssues(config())).toEqual([]);
  });

  it("says what the table lacks, at the path of what needs it", () => {
    expect(tableShapeIssues(config(), undefined, where)).toEqual([
      errorIssue("/table", "table orders does not exist in DB at h:1/d: create it, or set createTable: true"),
    ]);
    expect(tableShapeIssues(config({ createTable: true }), undefined, where)).toEqual([]);
    const mapped = config({ columns: { id: "id", total: "data.total" } });
    expect(tableShapeIssues(mapped, { columns: ["id"], uniqueKeys: [["id"]] }, where)).toEqual([
      expect.objectContaining({
        path: "/columns/total",
        message: "table orders in DB at h:1/d has no column total",
      }),
    ]);
    expect(tableShapeIssues(config(), { columns: FIXED, uniqueKeys: [["id", "type"]] }, where)).toEqual([
      expect.objectContaining({
        path: "/key",
        message: expect.stringContaining("no primary key or unique index on exactly (id)"),
      }),
    ]);
    expect(
      tableShapeIssues(
        config(),
        { columns: FIXED.map((c) => c.toUpperCase()), uniqueKeys: [["ID"]] },
        { ...where, ignoreCase: true },
      ),
    ).toEqual([]);
  });
});
