import { resolve } from "node:path";
import {
  type ComponentDescriptor,
  clientFor,
  deadline,
  descriptorToJson,
  FLOW_CLI,
  getStage,
  loadPipeline,
  locatorFromArgument,
  ServiceEndpoint,
  type ServiceLocator,
} from "@flow/core";
import { UserError } from "@flow/errors";
import { FAMILY_NAMES, familyNameOf } from "@flow/sdk/internal";
import type { Command } from "commander";
import pino from "pino";
import { openCommandState } from "./pipeline-state";

interface DescribeOptions {
  command?: string;
  state?: string;
  file?: string;
  json?: boolean;
}

/**
 * `flow describe <service>`: a service's capabilities and config schema, finding it the ways a
 * pipeline does - a workspace package (`@flow/source-file`), `host:port`, `dns:host:port`,
 * `registry:name`, `--command "<program>"`, or a stage of a pipeline file (`-f p.yaml <stage>`).
 */
export function registerDescribeCommand(program: Command): void {
  program
    .command("describe")
    .description("Show a service's capabilities and the JSON Schema of its configuration")
    .argument("[service]", "package name, host:port, dns:host:port, registry:name, or a stage id with -f")
    .option("--command <program>", "spawn this program (as `command:` in a pipeline)")
    .option("-f, --file <pipeline>", "find the service as this pipeline's stage <service> does")
    .option("--state <url>", "state store whose registry `registry:<name>` is looked up in")
    .option("--json", "print the descriptor as JSON")
    .action(async (service: string | undefined, options: DescribeOptions) => {
      const { locator, baseDir, stageId } = locatorFor(service, options);
      const logger = pino({ level: "warn" }, pino.destination(2));
      // `registry:` names are looked up in the state store (the one `-f` names, or the default).
      const state =
        locator.kind === "registry"
          ? await openCommandState({ file: options.file, state: options.state })
          : undefined;
      const endpoint = new ServiceEndpoint({
        stageId,
        locator,
        baseDir,
        handshakeTimeoutMs: 10_000,
        restart: { maxRestarts: 0, initialDelayMs: 0, maxDelayMs: 0 },
        logger,
        lookupRegistry: state
          ? async (name) => (await state.store.listServices(name)).map((service) => service.address)
          : undefined,
      });
      try {
        await endpoint.start();
        const component = await describeAny(endpoint.target);
        if (options.json) {
          // The proto3 JSON form, enums by name, as `flow registry list --json` prints a descriptor;
          // the config schema as the JSON object it is.
          const json = descriptorToJson(component) as Record<string, unknown>;
          console.log(
            JSON.stringify({ ...json, configSchema: JSON.parse(component.configSchema || "{}") }, null, 2),
          );
          return;
        }
        console.log(`${component.name} ${component.version} (${familyName(component.family)})`);
        if (component.description) console.log(component.description);
        console.log(
          `contracts: ${component.contracts.map((c) => `${c.name} ${c.major}.${c.minor}.${c.patch}`).join(", ")}`,
        );
        if (component.acceptedEventTypes.length > 0)
          console.log(`accepts: ${component.acceptedEventTypes.join(", ")}`);
        if (component.producedEventTypes.length > 0)
          console.log(`produces: ${component.producedEventTypes.join(", ")}`);
        console.log(`features: ${JSON.stringify(component.features)}`);
        console.log(`config schema:\n${JSON.stringify(JSON.parse(component.configSchema || "{}"), null, 2)}`);
      } finally {
        await endpoint.stop();
        await state?.store.close();
      }
    });
}

function locatorFor(
  service: string | undefined,
  options: DescribeOptions,
): { locator: ServiceLocator; baseDir: string; stageId: string } {
  const cwd = process.cwd();
  if (options.file) {
    if (!service)
      throw new UserError(`name the stage to describe: ${FLOW_CLI} describe -f <pipeline> <stage>`);
    const pipeline = loadPipeline(resolve(options.file));
    const stage = getStage(pipeline, service);
    if (!stage)
      throw new UserError(`${options.file}: no stage "${service}"`, {
        hint: `stages: ${pipeline.stages.map((s) => s.id).join(", ")}`,
      });
    return { locator: stage.locator, baseDir: pipeline.baseDir, stageId: stage.id };
  }
  return { locator: locatorFromArgument(service, options.command, cwd), baseDir: cwd, stageId: "describe" };
}

/** Describe speaks the same messages in every family contract: ask each until one answers. */
async function describeAny(target: string): Promise<ComponentDescriptor> {
  const failures: string[] = [];
  for (const family of FAMILY_NAMES) {
    const client = clientFor(family, target) as unknown as {
      describe(
        request: object,
        options: object,
        callback: (
          error: { details?: string; code?: number } | null,
          response?: { component?: ComponentDescriptor },
        ) => void,
      ): void;
      close(): void;
    };
    try {
      const component = await new Promise<ComponentDescriptor | undefined>((resolvePromise, reject) =>
        client.describe({}, { deadline: deadline(5000) }, (error, response) =>
          error ? reject(error) : resolvePromise(response?.component),
        ),
      );
      if (component) return component;
    } catch (error) {
      failures.push(`${family}: ${(error as { details?: string }).details ?? String(error)}`);
    } finally {
      client.close();
    }
  }
  throw new UserError(`${target} answers no Flow family contract`, { hint: failures.join("; ") });
}

/** The family's name; FAMILY_UNSPECIFIED (0) and values Flow does not know as they are. */
function familyName(family: number): string {
  return familyNameOf(family) ?? (family === 0 ? "unspecified" : String(family));
}
