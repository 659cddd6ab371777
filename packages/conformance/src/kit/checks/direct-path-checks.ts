import type { FamilyName } from "@flow/sdk/internal";
import type { CheckResult } from "../check-result";
import type { ConformContext } from "../conform-context";
import { CONTRACT_REGISTRY } from "../contract-descriptors";
import { kitContract } from "../family-clients";
import type { Scenario } from "../scenario";
import { directReceiverChecks } from "./direct-receiver-checks";
import { processorPushCheck, sourcePushCheck } from "./direct-upstream-checks";
import { unclaimedFeatureResults } from "./unclaimed-feature";

/**
 * Whether the family's contract at `major` has the direct data path (from its descriptors): an
 * Ingest rpc (processor_service, consumer_service), or peers in the Read stream's start
 * (source_service). v1 never has it.
 */
export function contractHasDirectPath(family: FamilyName, major: number): boolean {
  const service = CONTRACT_REGISTRY.getService(kitContract(family, major).service);
  if (!service) return false;
  if (service.methods.some((method) => method.name === "Ingest")) return true;
  const start = service.methods
    .find((method) => method.name === "Read")
    ?.input.fields.find((field) => field.name === "start");
  return start?.fieldKind === "message" && start.message.fields.some((field) => field.name === "peers");
}

/**
 * Whether the direct data path checks run at the context's major: undefined when they do, else
 * the lines to report instead: none at a major without the direct path, one saying they do not
 * apply to a service whose Describe there does not say features.direct_path.
 */
export function directPathNotChecked(context: ConformContext): CheckResult[] | undefined {
  return unclaimedFeatureResults(context, {
    group: "direct",
    field: "direct_path",
    checks: "direct data path checks",
    inContract: contractHasDirectPath(context.family, context.major),
    claimed: context.component.features?.directPath === true,
  });
}

/**
 * The direct data path at one major, for a service whose Describe there says
 * features.direct_path (see directPathNotChecked): a processor or consumer as the receiver
 * (Ingest, batches named by ref), a source or processor as the upstream (pushing to peers the kit
 * runs). A source reads `scenario`'s keys.
 */
export async function directPathChecks(context: ConformContext, scenario: Scenario): Promise<CheckResult[]> {
  if (context.family === "source") return [await sourcePushCheck(context, scenario)];
  const results = await directReceiverChecks(context);
  if (context.family === "processor") results.push(await processorPushCheck(context));
  return results;
}
