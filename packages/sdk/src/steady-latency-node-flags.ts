/**
 * Node.js flags Flow starts its own Node processes with (Core through the `flow` bin, and the
 * services a pipeline names with `use:`), and recommends for Node services started with
 * `command:`.
 *
 * `--min-semi-space-size=16` keeps V8's young generation at its full 16 MiB per semi-space from
 * the start. Left to itself, V8 shrinks the young generation whenever the allocation rate is
 * low (a pipeline at a moderate event rate) and grows it again under load; committing the pages
 * again makes some scavenges take 5-20 ms instead of about 1 ms. With four processes on an event's
 * path, those pauses were the whole latency tail: at 10,000 events/s, p99 went from 15 ms to
 * 6-7 ms with the flag on every process (docs/benchmarks.md). The cost is memory: about 32 MiB of
 * young generation committed per process. The flag is not allowed in NODE_OPTIONS, so it goes on
 * the command line.
 */
export const STEADY_LATENCY_NODE_FLAGS: readonly string[] = ["--min-semi-space-size=16"];
