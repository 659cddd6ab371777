import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { listServices, StreamReader, unary } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { toCloudEvent } from "./event-conversion";
import {
  type DescribeResponse,
  ProcessorServiceClient,
  ProcessorServiceService,
} from "./gen/processor_service/v1/processor";
import {
  ProcessorServiceClient as ProcessorServiceClientV2,
  type ProcessRequest as ProcessRequestV2,
  type ProcessResponse as ProcessResponseV2,
} from "./gen/processor_service/v2/processor";
import { parseHandshake } from "./handshake";
import { checkServingStatus } from "./health-check";
import type { ProcessorDefinition } from "./processor";
import { type ServeOptions, serveProcessor } from "./serve";
import { testEvents } from "./test-support/test-events";

const packageDir = join(__dirname, "..");

describe("serveProcessor in this process", () => {
  it("prints the handshake, reports the vendored contract version and listens on an OS-chosen port", async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const running = await serveProcessor(
      { name: "inline", version: "1.0.0", configSchema: { type: "object" }, process: (event) => event },
      { service: ProcessorServiceService, packageDir, handleSignals: false },
    ).finally(() => write.mockRestore());
    try {
      expect(running.contract).toEqual({ name: "processor_service", major: 1, minor: 0, patch: 0 });
      expect(written).toEqual([`flow-handshake|1|processor_service|1|tcp|${running.address}|grpc\n`]);
      expect(running.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(running.address).not.toBe("127.0.0.1:0");
      expect(await checkServingStatus(running.address)).toBe("SERVING");
    } finally {
      await running.stop();
    }
  });
});

const echo: ProcessorDefinition<object> = {
  name: "found",
  version: "1.0.0",
  configSchema: { type: "object" },
  process: (event) => event,
};

const V1 = { name: "processor_service", major: 1, minor: 0, patch: 0 };
const V2 = { name: "processor_service", major: 2, minor: 3, patch: 0 };

/** Serves `echo` with `options` and FLOW_CONTRACT_MAJORS as given; returns what it printed on stdout. */
async function serveWith(options: ServeOptions, coreMajors?: string) {
  const written: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const before = process.env.FLOW_CONTRACT_MAJORS;
  if (coreMajors === undefined) delete process.env.FLOW_CONTRACT_MAJORS;
  else process.env.FLOW_CONTRACT_MAJORS = coreMajors;
  try {
    const running = await serveProcessor(echo, { handleSignals: false, ...options });
    return { running, handshake: written.map((line) => parseHandshake(line)) };
  } finally {
    write.mockRestore();
    if (before === undefined) delete process.env.FLOW_CONTRACT_MAJORS;
    else process.env.FLOW_CONTRACT_MAJORS = before;
  }
}

function describeOn(client: grpc.Client & { describe: ProcessorServiceClient["describe"] }) {
  return unary<DescribeResponse>((done) => client.describe({}, done));
}

describe("serve* with no options", () => {
  it("serves every major the calling module's package generated, each at its vendored version", async () => {
    const { running, handshake } = await serveWith({});
    const v1 = new ProcessorServiceClient(running.address, grpc.credentials.createInsecure());
    const v2 = new ProcessorServiceClientV2(running.address, grpc.credentials.createInsecure());
    try {
      expect(running.contract).toEqual(V2);
      expect(running.contracts).toEqual([V1, V2]);
      expect(handshake.map((line) => [line.contract, line.major])).toEqual([["processor_service", 2]]);
      const described = await Promise.all([describeOn(v1), describeOn(v2)]);
      expect(described.map((answer) => answer.component?.name)).toEqual(["found", "found"]);
      const both = [expect.objectContaining(V1), expect.objectContaining(V2)];
      expect(described.map((answer) => answer.component?.contracts)).toEqual([both, both]);
      expect(await listServices(running.address)).toEqual(
        expect.arrayContaining([
          "flow.microservices.processor_service.v1.ProcessorService",
          "flow.microservices.processor_service.v2.ProcessorService",
        ]),
      );
      for (const major of [1, 2])
        expect(
          await checkServingStatus(running.address, {
            service: `flow.microservices.processor_service.v${major}.ProcessorService`,
          }),
        ).toBe("SERVING");
    } finally {
      v1.close();
      v2.close();
      await running.stop();
    }
  });

  it("serves only the old major when asked (major: 1): v2 is UNIMPLEMENTED", async () => {
    const { running, handshake } = await serveWith({ major: 1 }, "1,2");
    const v2 = new ProcessorServiceClientV2(running.address, grpc.credentials.createInsecure());
    try {
      expect(running.contracts).toEqual([V1]);
      expect(handshake.map((line) => line.major)).toEqual([1]);
      await expect(describeOn(v2)).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    } finally {
      v2.close();
      await running.stop();
    }
  });

  it.each([
    ["1", 1],
    ["2", 2],
    ["1,2", 2],
    [" 2 , 1 ", 2],
    ["2,3", 2],
    [undefined, 2],
    ["", 2],
  ])(
    "names in the handshake the highest major both speak (FLOW_CONTRACT_MAJORS=%j: v%d)",
    async (core, major) => {
      const { running, handshake } = await serveWith({}, core);
      try {
        expect(handshake.map((line) => line.major)).toEqual([major]);
        expect(running.contract.major).toBe(major);
        // It serves both majors whichever it names.
        expect(running.contracts.map((contract) => contract.major)).toEqual([1, 2]);
      } finally {
        await running.stop();
      }
    },
  );

  it("refuses to start, saying what each side speaks, when Core speaks no major it serves", async () => {
    await expect(serveWith({}, "3")).rejects.toThrow(
      "Core speaks processor_service v3 with this stage (FLOW_CONTRACT_MAJORS=3), and this service serves v1, v2: no major in common; serve one Core speaks (vendor it, or drop ServeOptions.major) or run a Core that speaks v1, v2",
    );
    await expect(serveWith({ major: 1 }, "2")).rejects.toThrow(
      "Core speaks processor_service v2 with this stage (FLOW_CONTRACT_MAJORS=2), and this service serves v1: no major in common",
    );
    await expect(serveWith({}, "two")).rejects.toThrow(
      'FLOW_CONTRACT_MAJORS: found "two", expected majors separated by commas (e.g. 1,2)',
    );
    await expect(serveWith({ major: 3 })).rejects.toThrow(
      "ServeOptions.major asks for processor_service v3, but this service can serve v1, v2 (generated: v1, v2): vendor processor_service@^3 and run pnpm generate, or ask for a major it has",
    );
  });
});

describe("a spawned service process", () => {
  const fixture = join(__dirname, "test-support", "fixtures", "echo-processor.js");
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("announces itself with one handshake line on stdout, serves, and stops cleanly on SIGTERM", async () => {
    if (!existsSync(join(packageDir, "dist", "index.js")))
      throw new Error("build @flow/sdk first: the fixture runs dist/");
    const { FLOW_CONTRACT_MAJORS: _unset, ...env } = process.env;
    const spawned = spawn(process.execPath, [fixture], {
      cwd: packageDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    let stderr = "";
    spawned.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      spawned.on("exit", (code, signal) => resolve({ code, signal })),
    );
    const lines = createInterface({ input: spawned.stdout as NodeJS.ReadableStream });
    const stdoutLines: string[] = [];
    const firstLine = new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        stdoutLines.push(line);
        if (stdoutLines.length === 1) resolve(line);
      });
      void exited.then(({ code }) =>
        reject(new Error(`the service exited (${code}) before its handshake: ${stderr}`)),
      );
    });

    const handshake = parseHandshake(await firstLine);
    expect(handshake).toMatchObject({
      protocolVersion: 1,
      contract: "processor_service",
      major: 2,
      network: "tcp",
      transport: "grpc",
    });

    const client = new ProcessorServiceClientV2(handshake.address, grpc.credentials.createInsecure());
    try {
      const { component } = await unary<DescribeResponse>((done) => client.describe({}, done));
      expect(component?.name).toBe("fixture-echo");
      // A stream still open when the signal arrives is ended cleanly, not cut off.
      const call = client.process();
      const reader = new StreamReader<ProcessRequestV2, ProcessResponseV2>(call);
      call.write({
        request: {
          $case: "start",
          value: { configJson: "{}", stageId: "echo", peers: [], acceptsBundles: false },
        },
      });
      const events = testEvents(1, 2).map(toCloudEvent);
      call.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });
      const answer = (await reader.next()).response;
      expect(answer?.$case === "batch" && answer.value.inputSequence).toBe(1n);

      spawned.kill("SIGTERM");
      expect((await reader.status).code).toBe(grpc.status.OK);
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      client.close();
    }
    expect(stdoutLines).toHaveLength(1);
    expect(stderr).toContain("stopping: finishing in-flight work");
  });

  it("exits 1 with one line saying what each side speaks when Core speaks no major it serves", async () => {
    const spawned = spawn(process.execPath, [fixture], {
      cwd: packageDir,
      env: { ...process.env, FLOW_CONTRACT_MAJORS: "3" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    let stdout = "";
    let stderr = "";
    spawned.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    spawned.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) =>
      spawned.on("close", (exitCode) => resolve(exitCode)),
    );
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "fixture-echo: Core speaks processor_service v3 with this stage (FLOW_CONTRACT_MAJORS=3), and this service serves v1, v2: no major in common; serve one Core speaks (vendor it, or drop ServeOptions.major) or run a Core that speaks v1, v2\n",
    );
  });
});
