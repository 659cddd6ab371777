import { ConfigValidator, checkServingStatus } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import type { ComponentDescriptor } from "../gen/component/v1/component";

/**
 * What Core checks of a service itself rather than trusting it, so a service in any language that
 * gets something wrong hears what and how to fix it before a run, instead of failing in it.
 */
export interface ServiceFinding {
  message: string;
  /** JSON Pointer into the stage's `config`, for a config problem. */
  pointer?: string;
  severity: "error" | "warning";
}

/**
 * The handshake line of a spawned service names the contract it serves; it must be the contract
 * Describe lists for the stage's family, at a major Describe lists too.
 */
export function checkHandshakeContract(
  handshake: { name: string; major: number } | undefined,
  component: ComponentDescriptor,
  familyContract: string,
): ServiceFinding[] {
  if (!handshake) return [];
  const described = component.contracts.some(
    (contract) => contract.name === handshake.name && contract.major === handshake.major,
  );
  if (handshake.name === familyContract && described) return [];
  const says = component.contracts.map((contract) => `${contract.name} v${contract.major}`).join(", ");
  return [
    {
      severity: "error",
      message: `its handshake line names ${handshake.name} v${handshake.major}, but Describe says it serves ${says || "no contract"}; the handshake must name the ${familyContract} major it serves`,
    },
  ];
}

/**
 * Core polls every service's standard health endpoint during a run and replaces one that does not
 * answer SERVING; a service without one would be killed as unreachable seconds into the run.
 */
export async function checkHealthService(target: string, timeoutMs: number): Promise<ServiceFinding[]> {
  try {
    await checkServingStatus(target, { service: "", timeoutMs });
    return [];
  } catch (error) {
    const code = (error as grpc.ServiceError).code;
    if (code === grpc.status.UNIMPLEMENTED) {
      return [
        {
          severity: "error",
          message:
            "it does not implement grpc.health.v1 (Health/Check answered UNIMPLEMENTED); Core checks every service's health during a run: register the standard health service (the SDK does; in Python, grpcio-health-checking's HealthServicer) and set the overall service \"\" to SERVING",
        },
      ];
    }
    if (code === grpc.status.NOT_FOUND) {
      return [
        {
          severity: "error",
          message:
            'its grpc.health.v1 service does not know the overall service "" (Health/Check answered NOT_FOUND); set the status of service "" to SERVING',
        },
      ];
    }
    // Unreachable or slow: the Describe call already reported that, or health watching will.
    return [];
  }
}

/**
 * Validates the stage's config against the JSON Schema the service declares, so a service whose
 * Configure accepts anything still has its config checked. A service that declares none gets a
 * warning; one whose schema is not valid JSON Schema gets an error.
 */
export function checkConfigAgainstSchema(
  component: ComponentDescriptor,
  config: Record<string, unknown> | undefined,
): ServiceFinding[] {
  const declared = component.configSchema.trim();
  if (declared === "") {
    return [
      {
        severity: "warning",
        message: `"${component.name}" declares no config schema (Describe's config_schema is empty), so Core cannot check its config`,
      },
    ];
  }
  let validator: ConfigValidator<unknown>;
  try {
    validator = new ConfigValidator(JSON.parse(declared) as Record<string, unknown>);
  } catch (error) {
    return [
      {
        severity: "error",
        message: `"${component.name}" declares a config schema that is not a valid JSON Schema (${(error as Error).message}); fix the service's config_schema`,
      },
    ];
  }
  return validator.check(JSON.stringify(config ?? {})).issues.map((issue) => ({
    severity: "error",
    message: issue.message,
    pointer: issue.path,
  }));
}
