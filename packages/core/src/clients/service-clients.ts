import { type FamilyName, FLOW_CHANNEL_OPTIONS } from "@flow/sdk/internal";
import * as grpc from "@grpc/grpc-js";
import { CORE_CONTRACTS, familyContract } from "./family-contracts";

export {
  ALL_CORE_MAJORS,
  CORE_CONTRACTS,
  describeMajors,
  FAMILY_CONTRACTS,
  type FamilyContract,
  familyContract,
  methodPath,
  type NegotiatedContract,
} from "./family-contracts";

/** Round robin over every address a target resolves to (DNS names with several replicas). */
const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

function channelOptions(): grpc.ChannelOptions {
  return { ...FLOW_CHANNEL_OPTIONS, "grpc.service_config": ROUND_ROBIN };
}

/**
 * A generated client of the family's contract at `major` (default: the highest Core speaks), for
 * the unary calls (Describe, Configure); streams use raw codecs.
 */
export function clientFor(
  family: FamilyName,
  target: string,
  major = CORE_CONTRACTS[family].majors.at(-1) as number,
): grpc.Client {
  const Client = familyContract(family, major).client;
  return new Client(target, grpc.credentials.createInsecure(), channelOptions());
}

/** A unary call's deadline, `ms` from now. */
export function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}
