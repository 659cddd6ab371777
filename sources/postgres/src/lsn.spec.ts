import { formatLsn, parseLsn } from "./lsn";

it("reads both halves of a WAL position, padded or not, and writes it as PostgreSQL does", () => {
  expect(parseLsn("0/16B3748")).toBe(0x16b3748n);
  expect(parseLsn("00000001/0000000A")).toBe((1n << 32n) + 10n);
  expect(formatLsn(parseLsn("FFFFFFFF/FFFFFFFF"))).toBe("FFFFFFFF/FFFFFFFF");
  expect(formatLsn((1n << 32n) + 10n)).toBe("1/A");
  expect(() => parseLsn("16B3748")).toThrow(/not a WAL position/);
});
