import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { StreamReader, unary } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import {
  type DescribeResponse,
  ProcessorServiceClient,
  ProcessorServiceService,
  type ProcessRequest,
  type ProcessResponse,
} from "./gen/processor_service/v1/processor";
import { parseHandshake } from "./handshake";
import { checkServingStatus } from "./health-check";
import { serveProcessor } from "./serve";
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

describe("serve* with no options", () => {
  it("serves the calling module's package: its generated service, its vendored contract version", async () => {
    const running = await serveProcessor(
      { name: "found", version: "1.0.0", configSchema: { type: "object" }, process: (event) => event },
      { handshake: false, handleSignals: false },
    );
    const client = new ProcessorServiceClient(running.address, grpc.credentials.createInsecure());
    try {
      expect(running.contract).toEqual({ name: "processor_service", major: 1, minor: 0, patch: 0 });
      const described = await new Promise<DescribeResponse>((resolve, reject) =>
        client.describe({}, (error, response) => (error ? reject(error) : resolve(response))),
      );
      expect(described.component?.name).toBe("found");
    } finally {
      client.close();
      await running.stop();
    }
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
    const spawned = spawn(process.execPath, [fixture], {
      cwd: packageDir,
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
      major: 1,
      network: "tcp",
      transport: "grpc",
    });

    const client = new ProcessorServiceClient(handshake.address, grpc.credentials.createInsecure());
    try {
      const { component } = await unary<DescribeResponse>((done) => client.describe({}, done));
      expect(component?.name).toBe("fixture-echo");
      // A stream still open when the signal arrives is ended cleanly, not cut off.
      const call = client.process();
      const reader = new StreamReader<ProcessRequest, ProcessResponse>(call);
      call.write({ request: { $case: "start", value: { configJson: "{}", stageId: "echo" } } });
      call.write({
        request: { $case: "batch", value: { sequence: 1n, batch: { events: testEvents(1, 2) } } },
      });
      expect((await reader.next()).response?.value.inputSequence).toBe(1n);

      spawned.kill("SIGTERM");
      expect((await reader.status).code).toBe(grpc.status.OK);
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      client.close();
    }
    expect(stdoutLines).toHaveLength(1);
    expect(stderr).toContain("stopping: finishing in-flight work");
  });
});
