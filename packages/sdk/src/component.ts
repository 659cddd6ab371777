/** Component-contract values (proto/component/v1) the SDK speaks, as plain TypeScript. */

/**
 * The families by name, with their component.v1 `Family` enum values: the one mapping between the
 * generated enum and the name Flow uses everywhere else (pipeline files, Core, the CLI).
 */
export const FAMILY = { source: 1, processor: 2, consumer: 3 } as const;
export type FamilyName = keyof typeof FAMILY;
export const FAMILY_NAMES = Object.keys(FAMILY) as readonly FamilyName[];

/**
 * The family a component.v1 `Family` value names, as a number or as its proto3 JSON name
 * (`FAMILY_SOURCE`); undefined for FAMILY_UNSPECIFIED and values this SDK does not know.
 */
export function familyNameOf(value: number | string): FamilyName | undefined {
  return FAMILY_NAMES.find((name) =>
    typeof value === "number" ? FAMILY[name] === value : value === `FAMILY_${name.toUpperCase()}`,
  );
}

/** Severity enum values of component.v1. */
export const SEVERITY = { error: 1, warning: 2 } as const;

/** Ordering enum values of component.v1. */
export const ORDERING = { none: 1, perSubject: 2, total: 3 } as const;

export interface ConfigIssue {
  /** JSON Pointer into the configuration. */
  path: string;
  message: string;
  severity: number;
}

export interface ContractVersion {
  name: string;
  major: number;
  minor: number;
  patch: number;
}

export interface ComponentDescriptor {
  name: string;
  version: string;
  family: number;
  contracts: ContractVersion[];
  acceptedEventTypes: string[];
  producedEventTypes: string[];
  configSchema: string;
  limits?: {
    maxBatchSize: number;
    maxInFlightBatches: number;
    maxEventBytes: bigint;
    /** The largest request message the service accepts (component 1.1.0); 0: not stated. */
    maxMessageBytes: bigint;
  };
  features?: { checkpointing: boolean; ordering: number; idempotent: boolean; deadLetters: boolean };
  description: string;
}

export function errorIssue(path: string, message: string): ConfigIssue {
  return { path, message, severity: SEVERITY.error };
}

export function warningIssue(path: string, message: string): ConfigIssue {
  return { path, message, severity: SEVERITY.warning };
}
