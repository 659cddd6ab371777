import { EventEmitter } from "node:events";
import { FLOW_CLI, UserError, UserErrors } from "@flow/errors";
import { backoffDelayMs, type Handshake, STEADY_LATENCY_NODE_FLAGS } from "@flow/sdk/internal";
import type { Logger } from "pino";
import type { NegotiatedContract } from "../clients/family-contracts";
import { locatorLocation } from "../config/locator-location";
import type { RestartSettings, ServiceLocator } from "../config/pipeline-model";
import { formatLocation } from "../config/source-location";
import { checkReachable } from "./address-reachability";
import { SpawnedService, spawnNetwork } from "./spawned-service";
import { resolveServicePackage } from "./workspace-packages";

export interface EndpointOptions {
  stageId: string;
  locator: ServiceLocator;
  /** Folder `use:` and `command:` resolve from (the pipeline file's folder). */
  baseDir: string;
  handshakeTimeoutMs: number;
  restart: RestartSettings;
  logger: Logger;
  /** Addresses registered under a name (the registry in the state store). */
  lookupRegistry?: (name: string) => Promise<string[]>;
  /**
   * The contract majors Core will speak with this stage (its family's, or the one its
   * `contractMajor` pins); a spawned service is told them (FLOW_CONTRACT_MAJORS). Default: every
   * major Core speaks.
   */
  contractMajors?: readonly number[];
}

/**
 * Where a stage's service is and how to get it back when it fails: a spawned process is
 * restarted (with backoff, up to a limit); an address, DNS name or registry entry is
 * reconnected (after backoff; the registry is consulted again).
 * Emits "restarted" (count, reason) after a successful recovery.
 */
export class ServiceEndpoint extends EventEmitter {
  private spawned: SpawnedService | undefined;
  private currentTarget = "";
  private recoveries = 0;
  /**
   * The contract Core speaks with the service, once negotiation agreed on it (StageServices sets
   * it): the links open their streams at its major.
   */
  contract: NegotiatedContract | undefined;
  /**
   * Whether the service's data stream carries bundles both ways (link-stream.ts): its Describe at
   * the negotiated major says features.bundles and FLOW_STREAM_BUNDLES did not switch them off
   * (StageServices sets it with the contract).
   */
  bundles = false;

  constructor(readonly options: EndpointOptions) {
    super();
  }

  get stageId(): string {
    return this.options.stageId;
  }

  /** The gRPC target to dial. */
  get target(): string {
    return this.currentTarget;
  }

  get restarts(): number {
    return this.spawned?.restarts ?? this.recoveries;
  }

  get pid(): number | undefined {
    return this.spawned?.pid;
  }

  /** The contract a spawned service's handshake named; undefined for a service Core did not start. */
  get handshakeContract(): { name: string; major: number } | undefined {
    return this.spawned?.contract;
  }

  /** How the locator reads in messages: `use @flow/source-file`. */
  get description(): string {
    const { locator } = this.options;
    if (locator.kind === "use") return `use ${locator.packageName}`;
    if (locator.kind === "command") return `command ${locator.argv.join(" ")}`;
    if (locator.kind === "registry") return `registry ${locator.name}`;
    return `${locator.kind} ${locator.address}`;
  }

  /**
   * Starts or finds the service. A failure names where the stage's `use:`, `command:` or
   * `address:` is written (file:line:col), when the locator came from a pipeline file.
   */
  async start(): Promise<void> {
    try {
      await this.startService();
    } catch (error) {
      throw this.located(error);
    }
  }

  /** A UserError prefixed with where the stage's `use:`, `command:` or `address:` is written. */
  private located(error: unknown): unknown {
    const location = locatorLocation(this.options.locator);
    if (!location || !(error instanceof UserError) || error instanceof UserErrors) return error;
    return new UserError(`${formatLocation(location)}: ${error.message}`, {
      ...(error.hint ? { hint: error.hint } : {}),
      exitCode: error.exitCode,
    });
  }

  private async startService(): Promise<void> {
    const { locator, stageId, baseDir, handshakeTimeoutMs, restart, logger } = this.options;
    switch (locator.kind) {
      case "use":
      case "command": {
        const argv =
          locator.kind === "use"
            ? [
                process.execPath,
                // Built-in services are Node programs built on the SDK: start them as Flow starts itself.
                ...STEADY_LATENCY_NODE_FLAGS,
                resolveServicePackage(locator.packageName, baseDir).entry,
              ]
            : locator.argv;
        this.spawned = new SpawnedService({
          stageId,
          argv,
          cwd: locator.kind === "command" ? locator.cwd : baseDir,
          handshakeTimeoutMs,
          restart,
          logger,
          network: spawnNetwork(),
          contractMajors: this.options.contractMajors,
        });
        this.currentTarget = dialTarget(await this.spawned.start());
        return;
      }
      case "address":
        // A service nobody runs there is one clear line now, rather than gRPC's retry report later.
        await checkReachable(stageId, locator.address, Math.min(handshakeTimeoutMs, 5000));
        this.currentTarget = locator.address;
        return;
      case "dns":
        this.currentTarget = `dns:///${locator.address}`;
        return;
      case "registry":
        this.currentTarget = await this.registryTarget(locator.name);
        return;
    }
  }

  /** Makes the service usable again after `reason`; throws a UserError when it gives up. */
  async recover(reason: string): Promise<void> {
    if (this.spawned) {
      const before = this.spawned.contract;
      const handshake = await this.spawned.restart(reason);
      this.checkRestartedContract(before, { name: handshake.contract, major: handshake.major });
      this.currentTarget = dialTarget(handshake);
      this.emit("restarted", this.spawned.restarts, reason);
      return;
    }
    const { restart, locator } = this.options;
    if (this.recoveries >= restart.maxRestarts) {
      throw new UserError(
        `stage "${this.stageId}": ${this.description} still failing after ${this.recoveries} reconnects (${reason})`,
        {
          hint: "check that the service is running and serving",
        },
      );
    }
    this.recoveries += 1;
    await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(this.recoveries, restart)));
    if (locator.kind === "registry") this.currentTarget = await this.registryTarget(locator.name);
    this.emit("restarted", this.recoveries, reason);
  }

  /**
   * A restarted service keeps the contract major the run agreed on with it: the links reopen their
   * streams at that major. A handshake that now names another one than both the agreed major and
   * what it named before (a service that ignores FLOW_CONTRACT_MAJORS may name a major Core did
   * not take) says the program was replaced by one that may not serve it, and every stream would
   * fail with UNIMPLEMENTED until the restarts are spent: the run ends at once, saying so.
   */
  private checkRestartedContract(
    before: { name: string; major: number } | undefined,
    now: { name: string; major: number },
  ): void {
    const agreed = this.contract;
    const same = (a: { name: string; major: number } | undefined) =>
      a !== undefined && a.name === now.name && a.major === now.major;
    if (!agreed || same(agreed) || same(before)) return;
    throw this.located(
      new UserError(
        `stage "${this.stageId}": its service (${this.description}) was restarted and its handshake now names ${now.name} v${now.major}, but the run agreed on ${agreed.name} v${agreed.major} with it when it started; the program was replaced by one that may not serve v${agreed.major}, and Core does not change a stage's major in the middle of a run`,
        {
          hint: "restart the pipeline, so Core and the service agree on a major again; or set contractMajor on the stage to a major every version of the service you run serves, so each one is spoken to at that major",
        },
      ),
    );
  }

  /**
   * A spawned service that stopped serving is killed, so the link using it restarts it; a service
   * Core did not start can only be waited for. Returns whether anything was done.
   */
  async replaceUnhealthy(): Promise<boolean> {
    if (!this.spawned?.running) return false;
    await this.spawned.killNow();
    return true;
  }

  async stop(graceMs?: number): Promise<void> {
    await this.spawned?.stop(graceMs);
  }

  private async registryTarget(name: string): Promise<string> {
    const addresses = (await this.options.lookupRegistry?.(name)) ?? [];
    if (addresses.length === 0) {
      throw new UserError(`stage "${this.stageId}": no live service is registered as "${name}"`, {
        hint: `start the service with FLOW_REGISTRY=<registry address> (see \`${FLOW_CLI} registry serve\`), and check \`${FLOW_CLI} registry list\``,
      });
    }
    // Several instances: grpc-js balances over a static list of IPv4 addresses.
    if (addresses.length > 1 && addresses.every((address) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(address))) {
      return `ipv4:${addresses.join(",")}`;
    }
    return addresses[0] as string;
  }
}

/** The gRPC target a handshake names: `unix:<path>` for a socket, host:port for TCP. */
export function dialTarget(handshake: Pick<Handshake, "network" | "address">): string {
  return handshake.network === "unix" ? `unix:${handshake.address}` : handshake.address;
}
