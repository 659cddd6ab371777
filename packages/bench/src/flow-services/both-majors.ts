import { dirname, join } from "node:path";
import type * as grpc from "@grpc/grpc-js";

// The bench's services serve both majors of their family contract, as the built-in services do,
// so a pipeline of them is all on v2 unless a stage is pinned (`contractMajor`), and an edge
// converts only where a scenario pins one. This package vendors only the v1 contracts, so the
// definitions are Core's generated ones (its build holds both majors of every family), served
// with Core's proto/ and lock for reflection and the versions Describe reports.

export interface BothMajors {
  service: grpc.ServiceDefinition[];
  packageDir: string;
}

const CORE_DIR = dirname(
  require.resolve("@flow/core/package.json", { paths: [dirname(require.resolve("@flow/cli/package.json"))] }),
);

/** ServeOptions `{ service, packageDir }` serving v1 and v2 of `family`'s contract. */
export function bothMajors(family: "processor" | "consumer"): BothMajors {
  const exportName = `${family[0]?.toUpperCase()}${family.slice(1)}ServiceService`;
  const service = [1, 2].map((major) => {
    const generated = require(
      join(CORE_DIR, "dist", "gen", `${family}_service`, `v${major}`, family),
    ) as Record<string, grpc.ServiceDefinition>;
    return generated[exportName] as grpc.ServiceDefinition;
  });
  return { service, packageDir: CORE_DIR };
}
