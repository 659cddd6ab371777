/** int64 values where a JavaScript number or a sign bit goes wrong. */
export const INT64_EDGES: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n ** 53n + 1n, // the first integer a double cannot hold
  -(2n ** 53n + 1n),
  2n ** 63n - 1n,
  -(2n ** 63n),
];

/** uint64 values, up to the largest. */
export const UINT64_EDGES: readonly bigint[] = [
  0n,
  1n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

/** Just outside each range: the codecs must refuse them rather than wrap around. */
export const INT64_OUT_OF_RANGE: readonly bigint[] = [2n ** 63n, -(2n ** 63n) - 1n];
export const UINT64_OUT_OF_RANGE: readonly bigint[] = [-1n, 2n ** 64n];
