import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { dropSchema, uniqueTestSchema, urlWithSchema, withPostgres } from "@flow/testing";
import { FlowProcess, RECORDING_CONSUMER, runFlow, serviceMain } from "./test-support/flow-cli";
import { tempDir } from "./test-support/temp-dir";

/** Resolves with the first match of `pattern` in what `stream` prints; rejects if `child` exits first. */
function waitForOutput(
  child: ChildProcess,
  stream: Readable | null,
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) {
        stream?.off("data", onData);
        child.off("exit", onExit);
        resolve(match);
      }
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`exited (${code}) before printing ${pattern}:\n${seen}`));
    stream?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** A service started by hand (not by Core), registering itself through FLOW_REGISTRY. */
function startService(main: string, env: NodeJS.ProcessEnv, cwd: string): ChildProcess {
  return spawn(process.execPath, [main], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

const pipeline = (stateUrl: string, outPath: string, count: number) => `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: e2e-registry }
state: { url: ${JSON.stringify(stateUrl)} }
defaults: { batch: { maxSize: 50 } }
sources:
  - id: orders
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${count}, payload: { template: { seq: "{{seq}}" } } }
processors:
  - id: odd
    registry: flow-processor-filter
    inputs: [orders]
    config: { expression: "data.seq % 2 = 1" }
consumers:
  - id: recorder
    registry: e2e-recorder
    inputs: [odd]
    config: { path: ${JSON.stringify(outPath)} }
`;

/** The same scenario whichever state store the registry and `flow run` share. */
function registryEndToEnd(storeName: string, stateUrlIn: (dir: string) => string): void {
  describe(`services that register themselves with \`flow registry serve\`, found by \`registry:\` in a pipeline (${storeName})`, () => {
    const dir = tempDir("registry");
    const stateUrl = stateUrlIn(dir.path);
    const children: ChildProcess[] = [];
    let registry: FlowProcess | undefined;

    afterAll(async () => {
      for (const child of [...children, registry?.child]) {
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL");
          await exited(child);
        }
      }
      dir.remove();
    });

    // Four processes start, three runs and two stops go by: more than jest's default 30 s on a
    // loaded 2-core machine (CI's, running the direct path both ways).
    it("registers, moves every event through the registered services, and forgets a service that stopped", async () => {
      registry = new FlowProcess(["registry", "serve", "--port", "0", "--state", stateUrl], {
        cwd: dir.path,
      });
      const [, registryAddress] = await waitForOutput(
        registry.child,
        registry.child.stdout,
        /listening on (\S+:\d+)/,
      );
      expect(registryAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(registryAddress).not.toMatch(/:0$/);

      // The consumer registers under FLOW_SERVICE_NAME, the processor under its component's name.
      const consumer = startService(
        RECORDING_CONSUMER,
        { FLOW_REGISTRY: registryAddress, FLOW_SERVICE_NAME: "e2e-recorder" },
        dir.path,
      );
      const processor = startService(
        serviceMain("@flow/processor-filter"),
        { FLOW_REGISTRY: registryAddress },
        dir.path,
      );
      children.push(consumer, processor);
      const handshake = /flow-handshake\|[^|]*\|[^|]*\|[^|]*\|tcp\|([^|]+)\|/;
      const [, consumerAddress] = await waitForOutput(consumer, consumer.stdout, handshake);
      const [, processorAddress] = await waitForOutput(processor, processor.stdout, handshake);
      await Promise.all(
        [consumer, processor].map((child) =>
          waitForOutput(child, child.stderr, /registered with the registry/),
        ),
      );

      const listed = await runFlow(["registry", "list", "--address", registryAddress as string, "--json"], {
        cwd: dir.path,
      });
      expect(listed.code).toBe(0);
      expect(
        JSON.parse(listed.stdout).map(
          (service: { name: string; address: string; component: { family: string } }) => [
            service.name,
            service.address,
            service.component.family,
          ],
        ),
      ).toEqual([
        ["e2e-recorder", consumerAddress, "FAMILY_CONSUMER"],
        ["flow-processor-filter", processorAddress, "FAMILY_PROCESSOR"],
      ]);

      const outPath = join(dir.path, "recorded.txt");
      const file = dir.file("pipeline.yaml", pipeline(stateUrl, outPath, 2000));
      const run = await runFlow(["run", file, "--json", "--no-progress"], { cwd: dir.path });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).status).toBe("succeeded");
      const recorded = readFileSync(outPath, "utf8").trim().split("\n").sort();
      const expected = Array.from({ length: 1000 }, (_, i) => `orders-${2 * i + 1}`).sort();
      expect(recorded).toEqual(expected);

      // A graceful stop deregisters at once: no waiting for the TTL.
      consumer.kill("SIGTERM");
      expect(await exited(consumer)).toEqual({ code: 0, signal: null });
      const afterStop = await runFlow(
        ["registry", "list", "--address", registryAddress as string, "--json"],
        { cwd: dir.path },
      );
      expect(JSON.parse(afterStop.stdout).map((service: { name: string }) => service.name)).toEqual([
        "flow-processor-filter",
      ]);
      const fromStore = await runFlow(["registry", "list", "e2e-recorder", "--state", stateUrl], {
        cwd: dir.path,
      });
      expect(fromStore.stdout).toContain("no live services named e2e-recorder");

      // With the consumer gone, a run fails before moving anything and says what is missing.
      const again = await runFlow(["run", file, "--no-progress"], { cwd: dir.path });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('no live service is registered as "e2e-recorder"');

      processor.kill("SIGTERM");
      expect(await exited(processor)).toEqual({ code: 0, signal: null });
      registry.kill("SIGINT");
      const stopped = await registry.wait();
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toContain("registry stopped");
    }, 90_000);
  });
}

registryEndToEnd("SQLite state store", (dir) => `sqlite:${join(dir, "state.db")}`);

withPostgres((url) => {
  const schema = uniqueTestSchema("flow_e2e_registry");
  afterAll(() => dropSchema(url, schema));
  registryEndToEnd("PostgreSQL state store", () => urlWithSchema(url, schema));
});
