import { type CheckResult, skip } from "../check-result";
import type { ConformContext } from "../conform-context";
import { contractLabel } from "../family-clients";

/** An optional feature of the family contracts a group of checks is for (the direct path, bundles). */
export interface OptionalFeature {
  /** The group's name in the report ("direct", "bundles"). */
  group: string;
  /** The Describe field that claims it (features.<field>). */
  field: string;
  /** What the report calls the group's checks. */
  checks: string;
  /** The contract at the context's major has the feature. */
  inContract: boolean;
  /** The service's Describe at that major claims it. */
  claimed: boolean;
}

/**
 * Whether a feature's checks run at the context's major: undefined when they do, else the lines
 * to report instead: none at a major without the feature, one saying they do not apply to a
 * service whose Describe there does not claim it.
 */
export function unclaimedFeatureResults(
  { family, major }: ConformContext,
  feature: OptionalFeature,
): CheckResult[] | undefined {
  if (!feature.inContract) return [];
  if (feature.claimed) return undefined;
  return [
    skip(
      feature.group,
      `Describe at ${contractLabel(family, major)} does not say features.${feature.field}: the ${feature.checks} do not apply`,
    ),
  ];
}
