import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type pino from "pino";
import { backoffDelayMs } from "./backoff-delay";
import type { ComponentDescriptor } from "./component";
import { settlesWithin } from "./settles-within";

// The SDK stays free of generated code at runtime: the registry contract it vendored
// (proto-pins.yaml: registry_service@^1) is loaded with proto-loader, from dist/ or src/ alike.
const PROTO_DIR = join(__dirname, "..", "proto");
const REGISTRY_PROTO = "registry_service/v1/registry.proto";

/** What a service needs to register itself; read from the environment by `registrationFromEnv`. */
export interface RegistrationTarget {
  /** host:port of the registry (`flow registry serve`). */
  registry: string;
  /** The name pipelines use (`registry: <name>`). */
  name: string;
  /** host:port the registry hands out to Core. */
  address: string;
}

export interface RegistrationOptions extends RegistrationTarget {
  /** The service's Describe answer. */
  component: ComponentDescriptor;
  logger: pino.Logger;
  /** Requested time-to-live; 0 (the default) lets the registry choose. */
  ttlSeconds?: number;
  /** Backoff between failed calls: doubles from `initialMs` up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
  /** Deadline of each call to the registry. */
  callTimeoutMs?: number;
  /** How long a stop waits for a call in flight, and for Deregister: a stop must stay prompt. */
  stopTimeoutMs?: number;
}

const DEFAULT_RETRY = { initialMs: 500, maxMs: 30_000 };
const DEFAULT_CALL_TIMEOUT_MS = 5_000;
const DEFAULT_STOP_TIMEOUT_MS = 2_000;
/** Used when the registry grants no TTL (it always should). */
const FALLBACK_TTL_SECONDS = 30;

type UnaryMethod<Request, Response> = (
  request: Request,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Response) => void,
) => grpc.ClientUnaryCall;

interface RegistryClient extends grpc.Client {
  Register: UnaryMethod<object, { instanceId: string; ttlSeconds: number }>;
  Heartbeat: UnaryMethod<{ instanceId: string }, { known: boolean }>;
  Deregister: UnaryMethod<{ instanceId: string }, object>;
}

type RegistryClientConstructor = new (target: string, credentials: grpc.ChannelCredentials) => RegistryClient;

let clientConstructor: RegistryClientConstructor | undefined;

function registryClientConstructor(): RegistryClientConstructor {
  if (!clientConstructor) {
    const definition = loadSync(REGISTRY_PROTO, { includeDirs: [PROTO_DIR], longs: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      flow: { microservices: { registry_service: { v1: { RegistryService: RegistryClientConstructor } } } };
    };
    clientConstructor = loaded.flow.microservices.registry_service.v1.RegistryService;
  }
  return clientConstructor;
}

/**
 * Keeps a service listed in Flow Core's registry for as long as it runs: registers, heartbeats at a
 * third of the granted TTL (so one lost heartbeat never expires the entry), registers again when
 * the registry has forgotten it, and deregisters on stop. A registry that is down or refuses a call
 * is logged and retried with backoff; it never stops the service.
 *
 * Events: "registered" (instanceId, ttlSeconds), "heartbeat" (known), "retry" (error, delayMs),
 * "deregistered" (instanceId).
 */
export class ServiceRegistration extends EventEmitter {
  private readonly client: RegistryClient;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private pendingCall: grpc.ClientUnaryCall | undefined;
  private failures = 0;
  private stopping: Promise<void> | undefined;
  private currentInstance: string | undefined;
  private heartbeatMs = heartbeatIntervalMs(FALLBACK_TTL_SECONDS);

  constructor(private readonly options: RegistrationOptions) {
    super();
    const Client = registryClientConstructor();
    this.client = new Client(options.registry, grpc.credentials.createInsecure());
  }

  /** The instance id the registry granted; undefined until registered. */
  get instanceId(): string | undefined {
    return this.currentInstance;
  }

  start(): this {
    this.run(() => this.step());
    return this;
  }

  /** Stops heartbeating and deregisters, within about twice `stopTimeoutMs`; never throws. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.timer);
      const stopTimeoutMs = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      // A Register in flight may still grant an instance: let it land, then remove it; but a
      // registry that does not answer must not hold up the service's own shutdown.
      if (this.inFlight && !(await settlesWithin(this.inFlight, stopTimeoutMs))) this.pendingCall?.cancel();
      const instanceId = this.currentInstance;
      if (instanceId) {
        try {
          await this.call<object>("Deregister", { instanceId }, stopTimeoutMs);
          this.currentInstance = undefined;
          this.options.logger.info(
            { registry: this.options.registry, instanceId },
            "deregistered from the registry",
          );
          this.emit("deregistered", instanceId);
        } catch (error) {
          // The entry expires on its own after its TTL; nothing else to do.
          this.options.logger.warn(
            { registry: this.options.registry, instanceId, err: describe(error) },
            "could not deregister; the entry will expire",
          );
        }
      }
      this.client.close();
    })();
    return this.stopping;
  }

  private async register(): Promise<void> {
    const { name, address, component, ttlSeconds, registry, logger } = this.options;
    const response = await this.call<{ instanceId: string; ttlSeconds: number }>("Register", {
      name,
      address,
      component: wireDescriptor(component),
      ttlSeconds: ttlSeconds ?? 0,
    });
    this.currentInstance = response.instanceId;
    const ttl = response.ttlSeconds || ttlSeconds || FALLBACK_TTL_SECONDS;
    logger.info(
      { registry, registeredAs: name, address, instanceId: response.instanceId, ttlSeconds: ttl },
      "registered with the registry",
    );
    this.heartbeatMs = heartbeatIntervalMs(ttl);
    this.emit("registered", response.instanceId, ttl);
    this.schedule(() => this.step(), this.heartbeatMs);
  }

  /**
   * The one recurring step: register while there is no instance, heartbeat while there is. A
   * failed step is retried as a whole, so a failed re-registration is retried as a registration.
   */
  private async step(): Promise<void> {
    const instanceId = this.currentInstance;
    if (!instanceId) return this.register();
    const { known } = await this.call<{ known: boolean }>("Heartbeat", { instanceId });
    this.emit("heartbeat", known);
    if (known) {
      this.schedule(() => this.step(), this.heartbeatMs);
      return;
    }
    // The entry expired (the service was paused, or the registry lost its state): come back.
    this.options.logger.warn(
      { registry: this.options.registry, instanceId },
      "the registry no longer knows this instance; registering again",
    );
    this.currentInstance = undefined;
    await this.register();
  }

  private schedule(step: () => Promise<void>, delayMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(step), delayMs);
    // The server keeps the process alive; a pending heartbeat alone must not.
    this.timer.unref();
  }

  /** Runs one step; on failure logs it and runs the same step again after a backoff. */
  private run(step: () => Promise<void>): void {
    if (this.stopping) return;
    this.inFlight = step().then(
      () => {
        this.failures = 0;
      },
      (error: unknown) => {
        if (this.stopping) return;
        const { initialMs, maxMs } = this.options.retry ?? DEFAULT_RETRY;
        const ceiling = backoffDelayMs(this.failures + 1, { initialDelayMs: initialMs, maxDelayMs: maxMs });
        // Half fixed, half random: services restarted together do not retry in lockstep.
        const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
        this.failures += 1;
        this.options.logger.warn(
          { registry: this.options.registry, err: describe(error), retryInMs: delayMs },
          "registry call failed; retrying",
        );
        this.emit("retry", error, delayMs);
        this.schedule(step, delayMs);
      },
    );
  }

  private call<Response>(
    method: "Register" | "Heartbeat" | "Deregister",
    request: object,
    timeoutMs = this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
  ): Promise<Response> {
    const deadline = new Date(Date.now() + timeoutMs);
    return new Promise<Response>((resolve, reject) => {
      const invoke = this.client[method] as UnaryMethod<object, Response>;
      const pending = invoke.call(this.client, request, { deadline }, (error, response) => {
        if (this.pendingCall === pending) this.pendingCall = undefined;
        if (error) reject(error);
        else resolve(response as Response);
      });
      this.pendingCall = pending;
    });
  }
}

/**
 * Starts self-registration when FLOW_REGISTRY=host:port is set (and returns it), else does nothing;
 * services spawned by Core (FLOW_SPAWNED=1) never register. FLOW_SERVICE_NAME overrides the registered name (default: the component's name);
 * FLOW_ADVERTISE_ADDRESS the address handed out (default: where the server listens, with a
 * wildcard host replaced by this machine's host name); FLOW_REGISTRY_TTL_SECONDS the TTL asked for
 * (default: the registry's).
 */
export function registerFromEnv(
  env: NodeJS.ProcessEnv,
  service: { component: ComponentDescriptor; address: string; logger: pino.Logger },
): ServiceRegistration | undefined {
  const registry = env.FLOW_REGISTRY?.trim();
  // A service Core spawned belongs to that run alone (it stops with it): other pipelines must not
  // find it by name, even when FLOW_REGISTRY is exported in the shell that started `flow run`.
  if (!registry || env.FLOW_SPAWNED === "1") return undefined;
  const ttl = env.FLOW_REGISTRY_TTL_SECONDS ? Number(env.FLOW_REGISTRY_TTL_SECONDS) : undefined;
  return new ServiceRegistration({
    registry,
    name: env.FLOW_SERVICE_NAME?.trim() || service.component.name,
    address: env.FLOW_ADVERTISE_ADDRESS?.trim() || advertisedAddress(service.address),
    component: service.component,
    logger: service.logger,
    ttlSeconds: ttl !== undefined && Number.isSafeInteger(ttl) && ttl > 0 ? ttl : undefined,
  }).start();
}

/** Another host can't dial 0.0.0.0 or [::]: hand out this machine's name instead. */
export function advertisedAddress(listening: string): string {
  const match = /^(.*):(\d+)$/.exec(listening);
  if (!match) return listening;
  const [, host, port] = match;
  return host === "0.0.0.0" || host === "::" || host === "[::]" ? `${hostname()}:${port}` : listening;
}

/** A third of the TTL: two heartbeats can be lost before the entry expires. */
export function heartbeatIntervalMs(ttlSeconds: number): number {
  return Math.max(100, Math.floor((ttlSeconds * 1000) / 3));
}

/** proto-loader encodes 64-bit integers from strings or numbers, not bigints. */
function wireDescriptor(component: ComponentDescriptor): object {
  return component.limits
    ? {
        ...component,
        limits: {
          ...component.limits,
          maxEventBytes: String(component.limits.maxEventBytes),
          maxMessageBytes: String(component.limits.maxMessageBytes),
        },
      }
    : component;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
