import {
  consumersDownstream,
  findCycles,
  outputsById,
  type StageNode,
  topologicalOrder,
} from "./stage-graph";

const source = (id: string): StageNode => ({ id, family: "source", inputs: [] });
const processor = (id: string, ...inputs: string[]): StageNode => ({ id, family: "processor", inputs });
const consumer = (id: string, ...inputs: string[]): StageNode => ({ id, family: "consumer", inputs });

describe("stage graph", () => {
  // a ─┬─> f ──> db
  //    └─> m ─┬─> db
  // b ────────┘└─> files        (fan-out from a and m, fan-in at m and db)
  const dag = [
    source("a"),
    source("b"),
    processor("f", "a"),
    processor("m", "a", "b"),
    consumer("db", "f", "m"),
    consumer("files", "m"),
  ];

  it("orders every stage after its inputs, file order breaking ties", () => {
    expect(topologicalOrder(dag)).toEqual(["a", "b", "f", "m", "db", "files"]);
    expect(topologicalOrder([consumer("c", "p"), processor("p", "s"), source("s")])).toEqual(["s", "p", "c"]);
  });

  it("lists the consumers downstream of each source", () => {
    expect(consumersDownstream(dag)).toEqual({ a: ["db", "files"], b: ["db", "files"] });
    expect(consumersDownstream([source("lonely"), ...dag.slice(1)])).toEqual({
      lonely: [],
      b: ["db", "files"],
    });
  });

  it("lists each stage's readers", () => {
    expect(outputsById(dag).get("a")).toEqual(["f", "m"]);
    expect(outputsById(dag).get("db")).toEqual([]);
  });

  it("finds no cycle in a DAG", () => {
    expect(findCycles(dag)).toEqual([]);
  });

  it("names each cycle once, from its first stage, along the data flow", () => {
    const stages = [
      source("s"),
      processor("p1", "s", "p3"),
      processor("p2", "p1"),
      processor("p3", "p2"),
      processor("q", "q"),
      processor("x", "y"),
      processor("y", "x"),
    ];
    expect(findCycles(stages)).toEqual([["p1", "p2", "p3"], ["q"], ["x", "y"]]);
  });

  it("handles long chains without deep recursion", () => {
    const chain = [
      source("s0"),
      ...Array.from({ length: 20000 }, (_, i) => processor(`p${i + 1}`, i === 0 ? "s0" : `p${i}`)),
    ];
    expect(findCycles(chain)).toEqual([]);
    expect(topologicalOrder(chain)).toHaveLength(20001);
  });
});
