import { resolve } from "node:path";
import {
  CORE_CONTRACTS,
  type ComponentDescriptor,
  describeAnyService,
  describeStage,
  descriptorToJson,
  FLOW_CLI,
  getStage,
  listedContract,
  loadPipeline,
  locatorFromArgument,
  type NegotiatedContract,
  offeredMajors,
  type PipelineStage,
  ServiceEndpoint,
  type ServiceLocator,
} from "@flow/core";
import { UserError } from "@flow/errors";
import { familyNameOf } from "@flow/sdk/internal";
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
      const { locator, baseDir, stageId, stage } = locatorFor(service, options);
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
        // A stage's pin holds here too: the service is offered what the pipeline would offer it.
        ...(stage ? { contractMajors: offeredMajors(stage) } : {}),
      });
      try {
        await endpoint.start();
        const { component, contract } = stage
          ? await describeAsStage(stage, endpoint)
          : await describeAnyService(endpoint, DESCRIBE_TIMEOUT_MS);
        if (options.json) {
          // The proto3 JSON form, enums by name, as `flow registry list --json` prints a descriptor;
          // the config schema as the JSON object it is; the contract Core speaks with it.
          const json = descriptorToJson(component) as Record<string, unknown>;
          console.log(
            JSON.stringify(
              { ...json, configSchema: JSON.parse(component.configSchema || "{}"), negotiated: contract },
              null,
              2,
            ),
          );
          return;
        }
        console.log(`${component.name} ${component.version} (${familyName(component.family)})`);
        if (component.description) console.log(component.description);
        console.log(`speaks with this core: ${contract.name} v${contract.major} (${contract.version})`);
        console.log(
          `contracts: ${component.contracts.map((c) => `${c.name} ${c.major}.${c.minor}.${c.patch}`).join(", ")}`,
        );
        if (component.acceptedEventTypes.length > 0)
          console.log(`accepts: ${component.acceptedEventTypes.join(", ")}`);
        if (component.producedEventTypes.length > 0)
          console.log(`produces: ${component.producedEventTypes.join(", ")}`);
        // The proto3 JSON form again: enums by name, no decoder bookkeeping (`_unknownFields`).
        const { features } = descriptorToJson(component) as { features?: Record<string, unknown> };
        console.log(`features: ${JSON.stringify(features ?? {})}`);
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
): { locator: ServiceLocator; baseDir: string; stageId: string; stage?: PipelineStage } {
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
    return { locator: stage.locator, baseDir: pipeline.baseDir, stageId: stage.id, stage };
  }
  return { locator: locatorFromArgument(service, options.command, cwd), baseDir: cwd, stageId: "describe" };
}

const DESCRIBE_TIMEOUT_MS = 5000;

/** A pipeline's stage, described as negotiation would: its family, the majors it is offered (its pin). */
async function describeAsStage(
  stage: PipelineStage,
  endpoint: ServiceEndpoint,
): Promise<{ component: ComponentDescriptor; contract: NegotiatedContract }> {
  const described = await describeStage(stage, endpoint);
  if ("problem" in described) throw new UserError(`stage "${stage.id}": ${described.problem}`);
  const { name } = CORE_CONTRACTS[stage.family];
  const contract = listedContract(described.component, name, described.major) ?? {
    name,
    major: described.major,
    version: "unlisted",
  };
  return { component: described.component, contract };
}

/** The family's name; FAMILY_UNSPECIFIED (0) and values Flow does not know as they are. */
function familyName(family: number): string {
  return familyNameOf(family) ?? (family === 0 ? "unspecified" : String(family));
}
