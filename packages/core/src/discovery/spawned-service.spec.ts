import pino from "pino";
import { SpawnedService, telltaleLine } from "./spawned-service";

describe("the contract majors a spawned service is offered", () => {
  /** A program whose handshake names the highest major FLOW_CONTRACT_MAJORS offers it. */
  const chooser = [
    process.execPath,
    "-e",
    `const offered = (process.env.FLOW_CONTRACT_MAJORS ?? "").split(",").map(Number);
console.log("flow-handshake|1|processor_service|" + Math.max(...offered) + "|tcp|127.0.0.1:1|grpc");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));`,
  ];

  async function handshakeWith(contractMajors?: number[]) {
    const service = new SpawnedService({
      stageId: "chooser",
      argv: chooser,
      cwd: __dirname,
      handshakeTimeoutMs: 20_000,
      restart: { maxRestarts: 0, initialDelayMs: 0, maxDelayMs: 0 },
      logger: pino({ level: "silent" }),
      contractMajors,
    });
    try {
      await service.start();
      return service.contract;
    } finally {
      await service.stop(1000);
    }
  }

  it("are told in FLOW_CONTRACT_MAJORS: every major Core speaks, or the stage's pin", async () => {
    expect(await handshakeWith()).toEqual({ name: "processor_service", major: 2 });
    expect(await handshakeWith([1])).toEqual({ name: "processor_service", major: 1 });
  });
});

describe("the stderr line a failed start is reported with", () => {
  it("is Node's error, not its closing version banner", () => {
    const node = [
      "node:internal/modules/cjs/loader:1210",
      "  throw err;",
      "  ^",
      "",
      "Error: Cannot find module '/srv/missing.js'",
      "    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)",
      "    at node:internal/main/run_main_module:28:49 {",
      "  code: 'MODULE_NOT_FOUND',",
      "  requireStack: []",
      "}",
      "",
      "Node.js v20.20.2",
    ];
    expect(telltaleLine(node)).toBe("Error: Cannot find module '/srv/missing.js'");
  });

  it("is Python's exception line, and otherwise the last line with something in it", () => {
    const python = [
      "Traceback (most recent call last):",
      '  File "svc.py", line 1, in <module>',
      "ModuleNotFoundError: No module named 'grpc'",
    ];
    expect(telltaleLine(python)).toBe("ModuleNotFoundError: No module named 'grpc'");
    expect(telltaleLine(["config file /etc/x not found", ""])).toBe("config file /etc/x not found");
    expect(telltaleLine([])).toBeUndefined();
  });
});
