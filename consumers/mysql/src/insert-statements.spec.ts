import { insertStatements, RowTooLargeError } from "./insert-statements";

const rows = (...sizes: number[]) =>
  sizes.map((size, index) => ({ eventId: `e${index + 1}`, sql: `(${"x".repeat(size - 2)})` }));
const bytes = (statement: string) => Buffer.byteLength(statement, "utf8");

describe("INSERT statements within max_allowed_packet", () => {
  const prefix = "INSERT INTO t (a) VALUES ";
  const suffix = " ON DUPLICATE KEY UPDATE a = a";

  it("puts every row in one statement when it fits", () => {
    expect(insertStatements(prefix, suffix, rows(10, 10, 10), 4096)).toEqual([
      `${prefix}(${"x".repeat(8)}), (${"x".repeat(8)}), (${"x".repeat(8)})${suffix}`,
    ]);
  });

  it("cuts where the next row would pass the limit, keeping every row once and in order", () => {
    const limit = 1024 + 2000;
    const statements = insertStatements(prefix, suffix, rows(600, 600, 600, 600, 600, 600, 600), limit);
    expect(statements.length).toBeGreaterThan(1);
    for (const statement of statements) expect(bytes(statement)).toBeLessThanOrEqual(limit - 1024);
    expect(statements.join("\n").match(/\(x+\)/g)).toHaveLength(7);
  });

  it("counts bytes of UTF-8, not characters", () => {
    const wide = [
      { eventId: "e1", sql: `('${"é".repeat(600)}')` },
      { eventId: "e2", sql: `('${"é".repeat(600)}')` },
    ];
    const statements = insertStatements(prefix, suffix, wide, 1024 + 2000);
    expect(statements).toHaveLength(2);
  });

  it("refuses a row that fits no statement, naming its event", () => {
    expect(() => insertStatements(prefix, suffix, rows(10, 5000, 10), 4096)).toThrow(RowTooLargeError);
    expect(() => insertStatements(prefix, suffix, rows(10, 5000, 10), 4096)).toThrow(
      /makes an INSERT of \d+ bytes, more than the server's max_allowed_packet \(4096\)/,
    );
    try {
      insertStatements(prefix, suffix, rows(10, 5000), 4096);
    } catch (error) {
      expect((error as RowTooLargeError).eventId).toBe("e2");
    }
  });
});
