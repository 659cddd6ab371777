/** What /readyz answers: ready when every stage's service reports SERVING. */
export interface Readiness {
  ready: boolean;
  stages: { stage: string; family: string; health: string }[];
  /** The stages that are not serving (yet), by id. */
  notServing: string[];
}

export function readinessOf(
  stages: readonly { stageId: string; family: string; health: string }[],
): Readiness {
  const notServing = stages.filter((stage) => stage.health !== "serving").map((stage) => stage.stageId);
  return {
    ready: stages.length > 0 && notServing.length === 0,
    stages: stages.map(({ stageId, family, health }) => ({ stage: stageId, family, health })),
    notServing,
  };
}
