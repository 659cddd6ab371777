import { runKillingCore, runKillingService } from "./broker-round-trip";

/** Rows, distinct ids, and ids that are one of gen-1 ... gen-<total> in a consumer's table (zeros before it exists). */
export type TableCounts = (total: number) => Promise<{ rows: number; ids: number; generated: number }>;

/**
 * The fault tests an SQL consumer's end-to-end spec runs, generator → consumer under the real
 * `flow run`: a SIGKILL of the consumer service mid-run, and a SIGKILL of Core followed by a rerun;
 * either way every generated id ends up in the table exactly once. `pipeline` writes the pipeline
 * file (`generatorToConsumer`), `counts` asks the table.
 */
export function sqlConsumerFaultTests(options: {
  prefix: string;
  cwd: () => string;
  stage: string;
  pipeline: (name: string, total: number) => string;
  counts: TableCounts;
}): void {
  const { prefix, stage, pipeline, counts } = options;
  const ids = async (): Promise<number> => (await counts(Number.MAX_SAFE_INTEGER)).ids;

  it("100,000 events land exactly once in the table, through a SIGKILL of the consumer service", async () => {
    const total = 100_000;
    await runKillingService(pipeline(`${prefix}-consumer-kill`, total), ids, stage, {
      cwd: options.cwd(),
      atLeast: 20_000,
    });
    expect(await counts(total)).toEqual({ rows: total, ids: total, generated: total });
  }, 180_000);

  it("a SIGKILL of Core mid-run, then a rerun: every id once", async () => {
    const total = 50_000;
    const file = pipeline(`${prefix}-core-kill`, total);
    const { idsBeforeKill } = await runKillingCore(
      file,
      ids,
      { total },
      { cwd: options.cwd(), endsByItself: true },
    );
    expect(idsBeforeKill).toBeLessThan(total);
    expect(await counts(total)).toEqual({ rows: total, ids: total, generated: total });
  }, 180_000);
}
