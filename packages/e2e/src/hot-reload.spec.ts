import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlowProcess, RECORDING_CONSUMER, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

/** The ids the recording consumer wrote, one per line. */
const readIds = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line !== "")
    : [];

/** Resolves once `ready` holds, looking every 50 ms (the sink's file has no event to wait on). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The sequence number of a generator event id (`gen-42` → 42). */
const sequenceOf = (id: string): number => Number(id.slice("gen-".length));

describe("flow run --watch: a changed pipeline file applies while the pipeline runs", () => {
  const dir = tempDir("hot-reload");
  afterAll(() => dir.remove());

  it("a filter's new rule applies from a batch boundary; the source never restarts; nothing lost or repeated", async () => {
    const out = join(dir.path, "ids.txt");
    const pipeline = (rule: string, extra = "") => `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: hot-reload }
defaults: { batch: { maxSize: 50 }, inFlight: 4 }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 1000000, rate: 5000, payload: { template: { n: "{{seq}}" } } }
processors:
  - id: rule
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "${rule}" }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [rule]
    config: { path: ${JSON.stringify(out)} }
${extra}`;
    const file = dir.file("pipeline.yaml", pipeline("data.n % 2 = 0"));
    const flow = new FlowProcess(["run", file, "--watch", "--no-progress"], { cwd: dir.path });
    try {
      await flow.waitForLog(/"stageId":"rec","eventsIn":\d+,"eventsOut":[1-9].*"msg":"progress"/);

      // A broken file is reported and ignored: the run goes on with the old rule.
      writeFileSync(file, pipeline("data.n % 2 = 0", "  - id: [oops"));
      await flow.waitForLog(/reload refused/);
      writeFileSync(file, pipeline("data.n % 3 = 0"));
      await flow.waitForLog(/"msg":"reload applied"/);
      // Let the new rule write a while: until the sink holds odd sequences the new rule passed.
      await until(() => readIds(out).filter((id) => sequenceOf(id) % 2 === 1).length >= 20);
      flow.kill("SIGINT");
      const stopped = await flow.wait();
      expect(stopped.code).toBe(130);

      const ids = readIds(out);
      expect(new Set(ids).size).toBe(ids.length);
      const inSink = new Set(ids.map(sequenceOf));
      const last = Math.max(...inSink);
      // Exactly one boundary b: every n < b went through the old rule (n even), every n >= b through
      // the new one (n % 3 = 0); and, up to the last event written, the sink holds exactly what its
      // rule passed: nothing lost, nothing extra.
      const oldHolds = (n: number) => inSink.has(n) === (n % 2 === 0);
      const newHolds = (n: number) => inSink.has(n) === (n % 3 === 0);
      const oldUpTo: boolean[] = [true];
      for (let n = 1; n <= last; n += 1) oldUpTo[n] = (oldUpTo[n - 1] as boolean) && oldHolds(n);
      const newFrom: boolean[] = [];
      newFrom[last + 1] = true;
      for (let n = last; n >= 1; n -= 1) newFrom[n] = (newFrom[n + 1] as boolean) && newHolds(n);
      const boundaries = [];
      for (let b = 1; b <= last + 1; b += 1) if (oldUpTo[b - 1] && newFrom[b]) boundaries.push(b);
      expect(boundaries.length).toBeGreaterThan(0);
      // Both rules were seen at work.
      expect([...inSink].some((n) => n % 2 === 0 && n % 3 !== 0)).toBe(true);
      expect([...inSink].some((n) => n % 2 === 1)).toBe(true);

      // The source's service started once: the reload replaced the filter only.
      const started = flow.stderr.split("\n").filter((line) => /"msg":"service started"/.test(line));
      expect(started.filter((line) => /"stage":"gen"/.test(line))).toHaveLength(1);
      expect(started.filter((line) => /"stage":"rule"/.test(line))).toHaveLength(2);
    } finally {
      flow.kill("SIGKILL");
    }
  });

  it("SIGHUP reloads the file without --watch", async () => {
    const out = join(dir.path, "hup.txt");
    const pipeline = (rule: string) => `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: hot-reload-hup }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: 1000000, rate: 200, payload: { template: { n: "{{seq}}" } } }
processors:
  - id: rule
    command: [node, ${JSON.stringify(serviceMain("@flow/processor-filter"))}]
    inputs: [gen]
    config: { expression: "${rule}" }
consumers:
  - id: rec
    command: [node, ${JSON.stringify(RECORDING_CONSUMER)}]
    inputs: [rule]
    config: { path: ${JSON.stringify(out)} }
`;
    const file = dir.file("hup.yaml", pipeline("true"));
    const flow = new FlowProcess(["run", file, "--no-progress"], { cwd: dir.path });
    try {
      await until(() => readIds(out).length > 0);
      writeFileSync(file, pipeline("false"));
      flow.kill("SIGHUP");
      const applied = await flow.waitForLog(/"msg":"reload applied"/);
      expect(JSON.parse(applied)).toMatchObject({
        trigger: "SIGHUP",
        replaced: ["rule"],
        kept: ["gen", "rec"],
      });
      flow.kill("SIGINT");
      expect((await flow.wait()).code).toBe(130);
    } finally {
      flow.kill("SIGKILL");
    }
  });
});
