import { recordRelease } from "../release";
import { ReleaseLedger } from "../release-ledger";
import { vendorDir } from "../vendoring";
import { TempRepo } from "./temp-repo";

/** A shared data type: self-contained, imports nothing. */
export function dataTypeProto(prefix: string, name: string, body = "  string id = 1;\n"): string {
  const message = name.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
  return `// ${message}: a shared data type of the test repository.
syntax = "proto3";

package ${prefix}.${name}.v1;

message ${message} {
${body}}
`;
}

/** A service contract in `<family>_service/v1/<family>.proto` importing `event/v1/event.proto`. */
export function serviceProto(prefix: string, family: string, importName = "event"): string {
  const service = `${family.charAt(0).toUpperCase()}${family.slice(1)}Service`;
  const type = importName.charAt(0).toUpperCase() + importName.slice(1);
  return `// ${service}: a service contract of the test repository.
syntax = "proto3";

package ${prefix}.${family}_service.v1;

import "${importName}/v1/${importName}.proto";

service ${service} {
  rpc Describe(DescribeRequest) returns (DescribeResponse);
}

message DescribeRequest {}

message DescribeResponse {
  ${prefix}.${importName}.v1.${type} sample = 1;
}
`;
}

export function manifestYaml(pins: string[]): string {
  return `pins:\n${pins.map((pin) => `  - "${pin}"\n`).join("")}`;
}

/** Releases a committed contract folder the way `flow proto release` records it. */
export function release(temp: TempRepo, name: string, version: string, path: string): void {
  const ledger = ReleaseLedger.read(temp.root);
  recordRelease(temp.repo, ledger, { name, version, path, commit: temp.git("rev-parse", "HEAD") });
}

/**
 * This repository's layout in miniature: shared types in `proto/`, a family folder `sources/`
 * with its service contract and vendored shared types, and one service package `sources/demo`.
 * Releases event 1.0.0 and source_service 1.0.0 (tags + ledger, committed). Nothing vendored yet.
 */
export function familyLayoutRepo(prefix = "flow.microservices"): TempRepo {
  const temp = TempRepo.create();
  temp.write("flow.proto.yaml", `prefix: ${prefix}\n`);
  temp.write("proto/event/v1/event.proto", dataTypeProto(prefix, "event"));
  temp.write(
    "proto/checkpoint/v1/checkpoint.proto",
    dataTypeProto(prefix, "checkpoint", "  bytes position = 1;\n"),
  );
  temp.commit("shared types");
  release(temp, "event", "1.0.0", "proto/event/v1");
  release(temp, "checkpoint", "1.0.0", "proto/checkpoint/v1");
  temp.commit("release event, checkpoint 1.0.0");
  return temp;
}

/**
 * Another team's layout: one service per folder, a different prefix, no family folders:
 * `proto/order/v1/order.proto` and `billing/proto/billing_service/v1/billing.proto`.
 */
export function perServiceLayoutRepo(prefix = "acme.platform"): TempRepo {
  const temp = TempRepo.create("acme-repo-");
  temp.write("flow.proto.yaml", `prefix: ${prefix}\n`);
  temp.write("proto/order/v1/order.proto", dataTypeProto(prefix, "order"));
  temp.commit("order type");
  release(temp, "order", "1.0.0", "proto/order/v1");
  temp.commit("release order 1.0.0");
  return temp;
}

/**
 * Adds the `sources` family to a familyLayoutRepo: `sources/proto/source_service/v1/source.proto`
 * importing event, with event vendored beside it (manifest + lock), committed.
 */
export function addSourcesFamily(temp: TempRepo, prefix = "flow.microservices"): void {
  temp.write("sources/proto-pins.yaml", manifestYaml(["event@^1"]));
  vendorDir(temp.repo, ReleaseLedger.read(temp.root), "sources");
  temp.write("sources/proto/source_service/v1/source.proto", serviceProto(prefix, "source"));
  temp.commit("sources family");
}

/** Adds `billing/proto/billing_service/v1/billing.proto` (importing order, vendored) to a perServiceLayoutRepo. */
export function addBillingService(temp: TempRepo, prefix = "acme.platform"): void {
  temp.write("billing/proto-pins.yaml", manifestYaml(["order@^1"]));
  vendorDir(temp.repo, ReleaseLedger.read(temp.root), "billing");
  temp.write("billing/proto/billing_service/v1/billing.proto", serviceProto(prefix, "billing", "order"));
  temp.commit("billing service");
}
