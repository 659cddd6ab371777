import { listRegistryServices, type RegisteredService, RegistryServer } from "@flow/core";
import { UserError } from "@flow/errors";
import { familyNameOf } from "@flow/sdk/internal";
import type { Command } from "commander";
import pino from "pino";
import { logLevelOption } from "./log-level-option";
import { openCommandState, openExistingState, stateTarget } from "./pipeline-state";
import { stopSignals } from "./stop-signals";

interface ServeOptions {
  host?: string;
  port: string;
  state?: string;
  file?: string;
  ttl?: string;
  maxTtl?: string;
  logLevel: string;
}

interface ListOptions {
  state?: string;
  file?: string;
  address?: string;
  json?: boolean;
}

/** `flow registry serve|list`: Flow Core's control plane, where services register themselves. */
export function registerRegistryCommand(program: Command): void {
  const registry = program
    .command("registry")
    .description(
      "Serve the service registry (services register with FLOW_REGISTRY=host:port) or list its live services",
    );

  registry
    .command("serve")
    .description(
      "Serve RegistryService over the state store until SIGINT/SIGTERM; prints the address it listens on",
    )
    .option("--host <host>", "interface to listen on (0.0.0.0 for other hosts)", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", "0")
    .option("--state <url>", "state store URL (default: the pipeline file's, or sqlite:.flow/state.db)")
    .option("-f, --file <pipeline>", "use the state store this pipeline file names")
    .option("--ttl <seconds>", "TTL granted to services that ask for none", "30")
    .option("--max-ttl <seconds>", "longest TTL granted", "300")
    .addOption(logLevelOption())
    .action(serveRegistry);

  registry
    .command("list")
    .description(
      "List the live registered services (from the state store, or from a running registry with --address)",
    )
    .argument("[name]", "only the instances of this name")
    .option("--state <url>", "state store URL (default: the pipeline file's, or sqlite:.flow/state.db)")
    .option("-f, --file <pipeline>", "use the state store this pipeline file names")
    .option("--address <host:port>", "ask the registry listening there instead of reading the state store")
    .option("--json", "print JSON")
    .action(listServices);
}

async function serveRegistry(options: ServeOptions): Promise<void> {
  const port = integerOption("--port", options.port, 0, 65_535);
  const defaultTtlSeconds = integerOption("--ttl", options.ttl ?? "", 1, 86_400);
  const maxTtlSeconds = integerOption("--max-ttl", options.maxTtl ?? "", defaultTtlSeconds, 86_400);
  const logger = pino({ name: "flow-registry", level: options.logLevel }, pino.destination(2));
  const { store } = await openCommandState(options);
  let server: RegistryServer;
  try {
    server = await RegistryServer.start({
      store,
      logger,
      host: options.host,
      port,
      defaultTtlSeconds,
      maxTtlSeconds,
    });
  } catch (error) {
    await store.close();
    throw new UserError(`cannot listen on ${options.host}:${port}: ${(error as Error).message}`, {
      hint: "choose another --port (0 lets the system pick a free one) or --host",
    });
  }
  // The first stdout line is for scripts and tests: the address to hand to services as FLOW_REGISTRY.
  process.stdout.write(`flow registry listening on ${server.address} (state ${store.location})\n`);

  // Signals that come together (timeout, a terminal's Ctrl-C) are one stop; a later one exits at once.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    stopSignals.listen((notice) => {
      if (notice.kind === "stop") resolve(notice.signal);
    });
  });
  logger.info({ signal }, "stopping the registry");
  await server.stop();
  await store.close();
  // Entries stay in the store and expire on their own; services keep heartbeating until a registry is back.
  logger.info("registry stopped");
}

async function listServices(name: string | undefined, options: ListOptions): Promise<void> {
  let services: RegisteredService[];
  let where: string;
  if (options.address) {
    services = await listRegistryServices(options.address, name);
    where = `the registry at ${options.address}`;
  } else {
    const target = stateTarget(options);
    const store = await openExistingState(target);
    try {
      services = store ? await store.listServices(name) : [];
      where = target.where;
    } finally {
      await store?.close();
    }
  }
  if (options.json) {
    console.log(JSON.stringify(services, null, 2));
    return;
  }
  if (services.length === 0) {
    console.log(`no live services${name ? ` named ${name}` : ""} in ${where}`);
    return;
  }
  const now = Date.now();
  for (const service of services) {
    const expiresIn = Math.max(0, Math.round((service.expiresAt.getTime() - now) / 1000));
    console.log(
      `${service.name}  ${service.address}  ${componentSummary(service.component)}  instance ${service.instanceId}  since ${service.registeredAt.toISOString()}  expires in ${expiresIn}s`,
    );
  }
}

/** `flow-consumer-sqlite 1.0.0 consumer` from a stored descriptor (proto3 JSON), or "-" when absent. */
function componentSummary(component: unknown): string {
  if (typeof component !== "object" || component === null) return "-";
  const { name, version, family } = component as { name?: unknown; version?: unknown; family?: unknown };
  const familyName = typeof family === "string" ? familyNameOf(family) : undefined;
  return (
    [name, version, familyName].filter((part) => typeof part === "string" && part !== "").join(" ") || "-"
  );
}

function integerOption(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UserError(`${flag} ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`, {
      hint: `e.g. ${flag} ${min}`,
    });
  }
  return number;
}
