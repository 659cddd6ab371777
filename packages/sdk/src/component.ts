import {
  type ComponentDescriptor,
  type ConfigIssue,
  type ContractVersion,
  Family,
  Ordering,
  Severity,
} from "./gen/component/v1/component";

// The component contract (proto/component/v1) as the SDK's own generated code has it: the message
// types are the generated ones, the constants name generated enum values.
export type { ComponentDescriptor, ConfigIssue, ContractVersion };

/**
 * The families by name, with their component.v1 `Family` enum values: the one mapping between the
 * generated enum and the name Flow uses everywhere else (pipeline files, Core, the CLI).
 */
export const FAMILY = {
  source: Family.FAMILY_SOURCE,
  processor: Family.FAMILY_PROCESSOR,
  consumer: Family.FAMILY_CONSUMER,
} as const;
export type FamilyName = keyof typeof FAMILY;
export const FAMILY_NAMES = Object.keys(FAMILY) as readonly FamilyName[];

/**
 * The family a component.v1 `Family` value names, as a number or as its proto3 JSON name
 * (`FAMILY_SOURCE`); undefined for FAMILY_UNSPECIFIED and values this SDK does not know.
 */
export function familyNameOf(value: number | string): FamilyName | undefined {
  return FAMILY_NAMES.find((name) =>
    typeof value === "number" ? FAMILY[name] === value : value === Family[FAMILY[name]],
  );
}

/** Severity enum values of component.v1. */
export const SEVERITY = { error: Severity.SEVERITY_ERROR, warning: Severity.SEVERITY_WARNING } as const;

/** Ordering enum values of component.v1. */
export const ORDERING = {
  none: Ordering.ORDERING_NONE,
  perSubject: Ordering.ORDERING_PER_SUBJECT,
  total: Ordering.ORDERING_TOTAL,
} as const;

export function errorIssue(path: string, message: string): ConfigIssue {
  return { path, message, severity: SEVERITY.error };
}

export function warningIssue(path: string, message: string): ConfigIssue {
  return { path, message, severity: SEVERITY.warning };
}
