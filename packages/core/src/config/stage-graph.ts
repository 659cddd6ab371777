import type { FamilyName } from "@flow/sdk/internal";

/** The part of a stage the graph rules look at. Edges run from each input to the stage reading it. */
export interface StageNode {
  id: string;
  family: FamilyName;
  inputs: readonly string[];
}

/** For each id, the stages reading from it, in the order the stages are given. */
export function outputsById(stages: readonly StageNode[]): Map<string, string[]> {
  const outputs = new Map<string, string[]>(stages.map((stage) => [stage.id, []]));
  for (const stage of stages) {
    for (const input of new Set(stage.inputs)) outputs.get(input)?.push(stage.id);
  }
  return outputs;
}

/**
 * Every cycle, one per strongly connected component, as the ids along the data flow:
 * ["a", "b"] means a feeds b and b feeds a. Each starts at its component's first stage in the
 * given order, so the same file always names the same cycle.
 */
export function findCycles(stages: readonly StageNode[]): string[][] {
  const outputs = outputsById(stages);
  const order = new Map(stages.map((stage, index) => [stage.id, index]));
  const cycles: string[][] = [];
  for (const component of stronglyConnectedComponents(
    stages.map((stage) => stage.id),
    outputs,
  )) {
    const members = new Set(component);
    const selfLoop =
      component.length === 1 && (outputs.get(component[0] as string) ?? []).includes(component[0] as string);
    if (component.length === 1 && !selfLoop) continue;
    const start = [...component].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))[0] as string;
    cycles.push(shortestCycleThrough(start, members, outputs));
  }
  return cycles.sort((a, b) => (order.get(a[0] as string) ?? 0) - (order.get(b[0] as string) ?? 0));
}

/** Tarjan's algorithm, iterative so a long chain of stages cannot overflow the stack. */
function stronglyConnectedComponents(ids: readonly string[], outputs: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of ids) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { id: string; next: number };
      const successors = outputs.get(frame.id) ?? [];
      if (frame.next < successors.length) {
        const successor = successors[frame.next] as string;
        frame.next += 1;
        if (!index.has(successor)) {
          index.set(successor, counter);
          low.set(successor, counter);
          counter += 1;
          stack.push(successor);
          onStack.add(successor);
          work.push({ id: successor, next: 0 });
        } else if (onStack.has(successor)) {
          low.set(frame.id, Math.min(low.get(frame.id) as number, index.get(successor) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id) as number, low.get(frame.id) as number));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.id);
        components.push(component);
      }
    }
  }
  return components;
}

/** Breadth-first from `start` back to itself, staying inside its component. */
function shortestCycleThrough(start: string, members: Set<string>, outputs: Map<string, string[]>): string[] {
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const next of outputs.get(current) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [current];
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, current);
        queue.push(next);
      }
    }
  }
  return [start];
}

/**
 * Every stage after all of its inputs; among stages that are ready together, the one given first
 * comes first. Only meaningful for a graph without cycles (stages in a cycle are left out).
 */
export function topologicalOrder(stages: readonly StageNode[]): string[] {
  const waiting = new Map(stages.map((stage) => [stage.id, new Set(stage.inputs).size]));
  const outputs = outputsById(stages);
  const order: string[] = [];
  const ready = stages.filter((stage) => waiting.get(stage.id) === 0).map((stage) => stage.id);
  const position = new Map(stages.map((stage, index) => [stage.id, index]));
  while (ready.length > 0) {
    ready.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    const id = ready.shift() as string;
    order.push(id);
    for (const reader of outputs.get(id) ?? []) {
      const left = (waiting.get(reader) ?? 0) - 1;
      waiting.set(reader, left);
      if (left === 0) ready.push(reader);
    }
  }
  return order;
}

/** For each source, the consumers its events can reach, in the order the stages are given. */
export function consumersDownstream(stages: readonly StageNode[]): Record<string, string[]> {
  const outputs = outputsById(stages);
  const family = new Map(stages.map((stage) => [stage.id, stage.family]));
  const result: Record<string, string[]> = {};
  for (const source of stages.filter((stage) => stage.family === "source")) {
    const reached = new Set<string>();
    const pending = [source.id];
    while (pending.length > 0) {
      for (const next of outputs.get(pending.pop() as string) ?? []) {
        if (reached.has(next)) continue;
        reached.add(next);
        pending.push(next);
      }
    }
    result[source.id] = stages
      .filter((stage) => reached.has(stage.id) && family.get(stage.id) === "consumer")
      .map((stage) => stage.id);
  }
  return result;
}
