import type * as grpc from "@grpc/grpc-js";
import {
  type ComponentDescriptor,
  type ConfigIssue,
  type ContractVersion,
  FAMILY,
  type FamilyName,
  ORDERING,
  SEVERITY,
} from "./component";
import type { ConfigValidator, JsonSchema } from "./config-validator";

/** What every Flow service says about itself, whatever its family. */
export interface ComponentInfo<Config> {
  /** e.g. "flow-processor-filter" */
  name: string;
  /** The service's own version (semver). */
  version: string;
  description?: string;
  /** JSON Schema of the stage configuration; checked on Configure and on every stream start. */
  configSchema: JsonSchema;
  acceptedEventTypes?: string[];
  producedEventTypes?: string[];
  limits?: { maxBatchSize?: number; maxInFlightBatches?: number; maxEventBytes?: number };
  features?: {
    checkpointing?: boolean;
    ordering?: keyof typeof ORDERING;
    idempotent?: boolean;
    deadLetters?: boolean;
  };
  /**
   * Checks beyond the schema - e.g. that the external system can be reached - reported with the
   * schema's issues. `validateOnly` is false when Core is about to run with this configuration.
   */
  validate?(
    config: Config,
    context: { validateOnly: boolean; stageId: string },
  ): ConfigIssue[] | Promise<ConfigIssue[]>;
}

/**
 * What Describe answers, on every major, and the registry entry: `contracts` lists every major the
 * service serves (component.proto: one entry per major), so Core and tools see them all. `maxMessageBytes` is the server's real receive limit (see
 * ServiceServer.maxMessageBytes), not a setting of the service: announcing anything else would let
 * Core send messages the server refuses. `directPath`: whether the answer's major takes part in the
 * direct data path (direct-path.ts), which the SDK does for every service; not a setting of the
 * service's definition either.
 */
export function describeComponent(
  info: ComponentInfo<unknown>,
  family: FamilyName,
  contracts: ContractVersion[],
  maxMessageBytes: number,
  directPath = false,
  /** Whether the answer's major reads bundles on its data stream (bundle-frames.ts): the SDK does at v2. */
  bundles = false,
): ComponentDescriptor {
  return {
    name: info.name,
    version: info.version,
    family: FAMILY[family],
    contracts,
    acceptedEventTypes: info.acceptedEventTypes ?? [],
    producedEventTypes: info.producedEventTypes ?? [],
    configSchema: JSON.stringify(info.configSchema),
    limits: {
      maxBatchSize: info.limits?.maxBatchSize ?? 0,
      maxInFlightBatches: info.limits?.maxInFlightBatches ?? 0,
      maxEventBytes: BigInt(info.limits?.maxEventBytes ?? 0),
      maxMessageBytes: BigInt(maxMessageBytes),
    },
    features: {
      checkpointing: info.features?.checkpointing ?? false,
      ordering: ORDERING[info.features?.ordering ?? "total"],
      idempotent: info.features?.idempotent ?? false,
      deadLetters: info.features?.deadLetters ?? false,
      directPath,
      bundles,
    },
    description: info.description ?? "",
  };
}

/** Validates a configuration: the schema first, then the service's own checks when the schema passes. */
export async function checkConfig<Config>(
  info: ComponentInfo<Config>,
  validator: ConfigValidator<Config>,
  configJson: string,
  context: { validateOnly: boolean; stageId: string },
): Promise<{ config?: Config; issues: ConfigIssue[] }> {
  const checked = validator.check(configJson);
  if (checked.config === undefined || !info.validate) return checked;
  try {
    const issues = await info.validate(checked.config, context);
    return { config: hasErrors(issues) ? undefined : checked.config, issues };
  } catch (error) {
    return {
      issues: [
        { path: "", message: `validation failed: ${(error as Error).message}`, severity: SEVERITY.error },
      ],
    };
  }
}

export function hasErrors(issues: readonly ConfigIssue[]): boolean {
  return issues.some((issue) => issue.severity === SEVERITY.error);
}

/** The Describe and Configure handlers, identical in shape across the three family contracts. */
export function componentHandlers<Config>(
  info: ComponentInfo<Config>,
  family: FamilyName,
  served: ContractVersion[],
  validator: ConfigValidator<Config>,
  maxMessageBytes: number,
  /** Whether the major these handlers serve takes part in the direct data path (direct-path.ts). */
  directPath = false,
  /** Whether the major these handlers serve reads bundles (bundle-frames.ts). */
  bundles = false,
): grpc.UntypedServiceImplementation {
  const descriptor = describeComponent(
    info as ComponentInfo<unknown>,
    family,
    served,
    maxMessageBytes,
    directPath,
    bundles,
  );
  const Describe: grpc.handleUnaryCall<unknown, { component: ComponentDescriptor }> = (_call, callback) => {
    callback(null, { component: descriptor });
  };
  const Configure: grpc.handleUnaryCall<
    { configJson: string; validateOnly: boolean; stageId: string },
    { accepted: boolean; issues: ConfigIssue[] }
  > = (call, callback) => {
    const { configJson, validateOnly, stageId } = call.request;
    checkConfig(info, validator, configJson, { validateOnly, stageId }).then(
      ({ issues }) => callback(null, { accepted: !hasErrors(issues), issues }),
      (error: Error) => callback(error),
    );
  };
  return { Describe, Configure };
}

/** A stream error with a gRPC status, the way grpc-js expects a handler to fail a call. */
export function statusError(code: grpc.status, details: string): grpc.StatusObject & Error {
  return Object.assign(new Error(details), { code, details, metadata: undefined as never });
}

/** Issues as one line each, for a stream that must fail because its configuration is invalid. */
export function issuesText(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `${issue.path || "/"}: ${issue.message}`).join("; ");
}
