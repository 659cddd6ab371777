import {
  type EndpointOptions,
  resolveServicePackage,
  ServiceEndpoint,
  type ServiceLocator,
} from "@flow/core";
import { type Handshake, parseHandshake, STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";
import { ALL_KIT_MAJORS } from "./family-clients";
import { type HandshakeObservation, ServiceProcess } from "./service-process";

/** The variable that tells a spawned service the contract majors its caller speaks (as Core sets it). */
export const CONTRACT_MAJORS_ENV = "FLOW_CONTRACT_MAJORS";

/** Core's endpoint logs nothing here: the kit reports what it finds in its own lines. */
const SILENT_LOGGER = new Proxy(
  {},
  {
    get: (_target, name) => (name === "child" ? () => SILENT_LOGGER : () => undefined),
  },
) as EndpointOptions["logger"];

/** A running instance of the service under test. */
export interface ServiceInstance {
  /** The gRPC target to dial. */
  target: string;
  /** The parsed handshake (spawned services only). */
  handshake?: Handshake;
  /** The process, when the kit started it (lifecycle and crash checks need it). */
  process?: ServiceProcess;
  stop(): Promise<void>;
}

export interface StartOutcome {
  instance?: ServiceInstance;
  observation?: HandshakeObservation;
  /** Why there is no instance (no handshake, a bad one, a lookup that failed). */
  problem?: string;
}

/**
 * Starts the service under test the ways Flow Core finds one: `use:` and `command:` are spawned
 * (and can be restarted, stopped with a signal, killed); `host:port`, `dns:` and `registry:` are
 * dialled as they are.
 */
export class ServiceLauncher {
  private readonly argv: string[] | undefined;
  readonly packageDir: string | undefined;

  constructor(
    readonly locator: ServiceLocator,
    private readonly baseDir: string,
    private readonly handshakeTimeoutMs: number,
    private readonly lookupRegistry?: (name: string) => Promise<string[]>,
  ) {
    if (locator.kind === "use") {
      const found = resolveServicePackage(locator.packageName, baseDir);
      this.packageDir = found.dir;
      // Built-in services are Node programs built on the SDK: started as Core starts them.
      this.argv = [process.execPath, ...STEADY_LATENCY_NODE_FLAGS, found.entry];
    } else if (locator.kind === "command") {
      this.argv = locator.argv;
    }
  }

  /**
   * Where the conformance config's shell commands run: the package of `use:`, the folder of
   * `--command`, else the current folder.
   */
  get workDir(): string {
    if (this.packageDir) return this.packageDir;
    return this.locator.kind === "command" ? this.locator.cwd : process.cwd();
  }

  /**
   * The contract majors the kit offers a service it starts, in FLOW_CONTRACT_MAJORS: every major
   * it speaks, as Core offers a service every major it speaks with the stage.
   */
  readonly offeredMajors: readonly number[] = ALL_KIT_MAJORS;

  /** True when the kit starts the process itself. */
  get spawns(): boolean {
    return this.argv !== undefined;
  }

  get description(): string {
    const { locator } = this;
    if (locator.kind === "use") return `use ${locator.packageName}`;
    if (locator.kind === "command") return `command ${locator.argv.join(" ")}`;
    if (locator.kind === "registry") return `registry ${locator.name}`;
    return `${locator.kind} ${locator.address}`;
  }

  async start(env: Record<string, string>): Promise<StartOutcome> {
    if (!this.argv) {
      const endpoint = new ServiceEndpoint({
        stageId: "conform",
        locator: this.locator,
        baseDir: this.baseDir,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        restart: { maxRestarts: 0, initialDelayMs: 0, maxDelayMs: 0 },
        logger: SILENT_LOGGER,
        lookupRegistry: this.lookupRegistry,
      });
      try {
        await endpoint.start();
      } catch (error) {
        return { problem: (error as Error).message };
      }
      return { instance: { target: endpoint.target, stop: () => endpoint.stop() } };
    }
    const cwd = this.locator.kind === "command" ? this.locator.cwd : this.baseDir;
    const child = ServiceProcess.spawn(this.argv, cwd, {
      ...env,
      [CONTRACT_MAJORS_ENV]: this.offeredMajors.join(","),
    });
    const observation = await child.awaitHandshake(this.handshakeTimeoutMs);
    if (!observation.inTime || observation.line === undefined) {
      await child.kill();
      return { observation, problem: "no handshake line in time" };
    }
    let handshake: Handshake;
    try {
      handshake = parseHandshake(observation.line);
    } catch (error) {
      await child.kill();
      return { observation, problem: `bad handshake: ${(error as Error).message}` };
    }
    const target = handshake.network === "unix" ? `unix:${handshake.address}` : handshake.address;
    return {
      observation,
      instance: {
        target,
        handshake,
        process: child,
        stop: async () => {
          child.closeStdin();
          child.signal("SIGTERM");
          if (!(await child.exitsWithin(5000))) await child.kill();
        },
      },
    };
  }
}
