import { retryAfterMs } from "./retry-after";

it("reads Retry-After as delay-seconds or an HTTP date", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");
  expect(retryAfterMs("3", now)).toBe(3000);
  expect(retryAfterMs(["0"], now)).toBe(0);
  expect(retryAfterMs("Tue, 01 Dec 2026 10:00:05 GMT", now)).toBe(5000);
  expect(retryAfterMs("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
  expect(retryAfterMs(undefined, now)).toBeUndefined();
  expect(retryAfterMs("soon", now)).toBeUndefined();
});
