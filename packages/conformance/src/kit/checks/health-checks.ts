import * as grpc from "@grpc/grpc-js";
import { type CheckResult, fail, pass } from "../check-result";
import { healthCheck, healthWatchFirst } from "../health-client";

const FIX =
  'serve the standard grpc.health.v1.Health service (grpc-health-check in Node, grpcio-health-checking in Python) with status SERVING for service ""';

/** grpc.health.v1 Check and Watch for service "" (the whole server), as Core and Kubernetes probes ask. */
export async function healthChecks(target: string, timeoutMs: number): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [id, ask] of [
    ["health.check", healthCheck],
    ["health.watch", healthWatchFirst],
  ] as const) {
    const method = id === "health.check" ? "Check" : "Watch";
    try {
      const status = await ask(target, "", timeoutMs);
      results.push(
        status === "SERVING"
          ? pass(id, `${method}("") answers SERVING`)
          : fail(id, `${method}("") answers ${status}, not SERVING, while the service should be ready`, FIX),
      );
    } catch (error) {
      const { code, details } = error as grpc.ServiceError;
      results.push(
        fail(
          id,
          code === grpc.status.UNIMPLEMENTED
            ? `the service does not implement grpc.health.v1 (${method}: UNIMPLEMENTED); Core would kill it as unreachable`
            : `${method}("") failed: ${details || (error as Error).message}`,
          FIX,
        ),
      );
    }
  }
  return results;
}
