// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the pipeline file's own interpolation syntax, written literally on purpose.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError, UserErrors } from "@flow/errors";
import { loadPipeline, parsePipeline } from "./load-pipeline";
import type { Pipeline } from "./pipeline-model";
import { salvageOf } from "./salvaged-stages";
import { BUILT_IN_STAGE_SETTINGS } from "./stage-settings-defaults";

const FILE = "pipelines/orders.yaml";
const BASE = "/srv/flow/pipelines";

function parse(text: string, env: Record<string, string> = {}): Pipeline {
  return parsePipeline(text, { file: FILE, baseDir: BASE, env });
}

/** The messages of the UserErrors a text is rejected with. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parse(text, env);
  } catch (error) {
    if (!(error instanceof UserErrors)) throw error;
    return error.errors.map((e) => e.message);
  }
  throw new Error("expected the pipeline to be rejected");
}

/** `FILE:line:col:` of the n-th occurrence of `needle` in `text`, computed independently of the code under test. */
function at(text: string, needle: string, occurrence = 0): string {
  let offset = -1;
  for (let i = 0; i <= occurrence; i++) {
    offset = text.indexOf(needle, offset + 1);
    if (offset < 0) throw new Error(`"${needle}" not in the text`);
  }
  const before = text.slice(0, offset).split("\n");
  return `${FILE}:${before.length}:${(before[before.length - 1] as string).length + 1}:`;
}

const HEADER = "apiVersion: flow/v1\nkind: Pipeline\nmetadata: { name: orders }\n";

const QUICKSTART = `${HEADER}defaults:
  batch: { lingerMs: 20 }
  retry: { maxAttempts: 3 }
sources:
  - id: orders
    use: "@flow/source-generator"
    config: { count: 1000 }
    batch: { maxSize: 500 }
processors:
  - id: big
    use: "@flow/processor-filter"
    inputs: [orders]
    config: { expression: "data.amount > 100" }
consumers:
  - id: db
    use: "@flow/consumer-sqlite"
    inputs: [big]
    config: { path: .flow/quickstart.db }
`;

describe("parsePipeline: a valid file", () => {
  it("resolves the model with every default applied", () => {
    const pipeline = parse(QUICKSTART);
    expect(pipeline).toMatchObject({
      apiVersion: "flow/v1",
      kind: "Pipeline",
      name: "orders",
      baseDir: BASE,
      file: expect.stringMatching(/pipelines\/orders\.yaml$/),
      state: { kind: "sqlite", path: `${BASE}/.flow/state.db`, url: `sqlite:${BASE}/.flow/state.db` },
      deadLetters: { path: `${BASE}/.flow/dead-letters.jsonl` },
      topologicalOrder: ["orders", "big", "db"],
      consumersDownstream: { orders: ["db"] },
      warnings: [],
    });
    expect(pipeline.defaults).toEqual({
      ...BUILT_IN_STAGE_SETTINGS,
      batch: { maxSize: 100, maxBytes: 64 * 1024 * 1024, lingerMs: 20 },
      retry: { ...BUILT_IN_STAGE_SETTINGS.retry, maxAttempts: 3 },
    });
    expect(pipeline.stages.map((stage) => [stage.family, stage.id, stage.inputs, stage.outputs])).toEqual([
      ["source", "orders", [], ["big"]],
      ["processor", "big", ["orders"], ["db"]],
      ["consumer", "db", ["big"], []],
    ]);
    const [orders, big, db] = pipeline.stages;
    expect(orders?.locator).toEqual({ kind: "use", packageName: "@flow/source-generator" });
    expect(orders?.config).toEqual({ count: 1000 });
    // A stage override merges field by field over the file's defaults.
    expect(orders?.settings.batch).toEqual({ maxSize: 500, maxBytes: 64 * 1024 * 1024, lingerMs: 20 });
    expect(big?.settings).toEqual(pipeline.defaults);
    expect(db?.config).toEqual({ path: ".flow/quickstart.db" });
    expect(db?.location).toEqual({ file: FILE, line: 18, column: 5 });
  });

  it("gives a stage without config an empty one and a file without defaults the built-ins", () => {
    const pipeline = parse(
      `${HEADER}sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`,
    );
    expect(pipeline.stages[0]?.config).toEqual({});
    expect(pipeline.defaults).toEqual(BUILT_IN_STAGE_SETTINGS);
    expect(pipeline.stages[1]?.settings).toEqual(BUILT_IN_STAGE_SETTINGS);
  });

  it("resolves every kind of service locator", () => {
    const pipeline = parse(`${HEADER}sources:
  - { id: a, command: ["node", "svc.js", "--fast"] }
  - { id: b, command: "python3 -m 'my svc'" }
processors:
  - { id: c, address: "localhost:50051", inputs: [a, b] }
  - { id: d, address: "unix:/run/flow/d.sock", inputs: [c] }
  - { id: e, dns: "enrich.internal:7000", inputs: [d] }
consumers:
  - { id: f, registry: warehouse-writer, inputs: [e] }
`);
    expect(pipeline.stages.map((stage) => stage.locator)).toEqual([
      { kind: "command", argv: ["node", "svc.js", "--fast"], cwd: BASE },
      { kind: "command", argv: ["python3", "-m", "my svc"], cwd: BASE },
      { kind: "address", address: "localhost:50051" },
      { kind: "address", address: "unix:/run/flow/d.sock" },
      { kind: "dns", host: "enrich.internal", port: 7000, address: "enrich.internal:7000" },
      { kind: "registry", name: "warehouse-writer" },
    ]);
  });

  it("reads the state store and dead letters settings", () => {
    const body = `sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`;
    const postgres = parse(
      `${HEADER}state: { url: "postgres://flow@db:5432/flow" }\ndeadLetters: { path: /var/dead.jsonl }\n${body}`,
    );
    expect(postgres.state).toEqual({ kind: "postgres", url: "postgres://flow@db:5432/flow" });
    expect(postgres.deadLetters).toEqual({ path: "/var/dead.jsonl" });
    const memory = parse(
      `${HEADER}state: { url: "sqlite::memory:" }\ndeadLetters: { path: out/dead.jsonl }\n${body}`,
    );
    expect(memory.state).toEqual({ kind: "sqlite", url: "sqlite::memory:", path: ":memory:" });
    expect(memory.deadLetters).toEqual({ path: `${BASE}/out/dead.jsonl` });
  });

  it("reads deadLetters.allow as a count or a percentage of the events read", () => {
    const body = `sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`;
    const count = parse(`${HEADER}deadLetters: { allow: 100 }\n${body}`);
    expect(count.deadLetters).toEqual({ path: `${BASE}/.flow/dead-letters.jsonl`, allow: { count: 100 } });
    // Plain `1.5%` in YAML is the string "1.5%"; quoted is the same.
    expect(parse(`${HEADER}deadLetters:\n  allow: 1.5%\n${body}`).deadLetters.allow).toEqual({
      percent: 1.5,
    });
    expect(parse(`${HEADER}deadLetters: { allow: "100%" }\n${body}`).deadLetters.allow).toEqual({
      percent: 100,
    });
    expect(parse(`${HEADER}deadLetters: { allow: 0 }\n${body}`).deadLetters.allow).toEqual({ count: 0 });
    expect(parse(`${HEADER}${body}`).deadLetters.allow).toBeUndefined();
  });

  it("rejects a deadLetters.allow that is neither a count nor a percentage, where it is written", () => {
    const body = `sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`;
    const expected =
      'expected a percentage from "0%" to "100%" (e.g. "1%"), or a whole number of events (e.g. 100)';
    for (const value of ["101%", "1 %", "ten", "-1%", '"100"']) {
      const text = `${HEADER}deadLetters:\n  path: dead.jsonl\n  allow: ${value}\n${body}`;
      const shown = JSON.stringify(value.replace(/^"|"$/g, ""));
      expect(problems(text)).toEqual([
        `${at(text, value)} deadLetters.allow: found ${shown}, expected ${expected.slice("expected ".length)}`,
      ]);
    }
    const negative = `${HEADER}deadLetters: { allow: -5 }\n${body}`;
    expect(problems(negative)).toEqual([
      `${at(negative, "-5")} deadLetters.allow: found -5, expected an integer or a string >= 0`,
    ]);
    const fraction = `${HEADER}deadLetters: { allow: 2.5 }\n${body}`;
    expect(problems(fraction)).toEqual([
      `${at(fraction, "2.5")} deadLetters.allow: found 2.5, expected an integer or a string`,
    ]);
  });

  it("reads directPath, on unless the file says false, and FLOW_DIRECT_PATH=off (or 0, false) switches it off whatever the file says", () => {
    const body = `sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`;
    expect(parse(`${HEADER}${body}`).directPath).toBe(true);
    expect(parse(`${HEADER}directPath: true\n${body}`).directPath).toBe(true);
    expect(parse(`${HEADER}directPath: false\n${body}`).directPath).toBe(false);
    for (const off of ["off", "0", "false", "OFF", " False "]) {
      expect(parse(`${HEADER}${body}`, { FLOW_DIRECT_PATH: off }).directPath).toBe(false);
      expect(parse(`${HEADER}directPath: true\n${body}`, { FLOW_DIRECT_PATH: off }).directPath).toBe(false);
    }
    // Any other value leaves the file's choice: the variable only ever switches it off.
    for (const other of ["on", "1", "true", ""]) {
      expect(parse(`${HEADER}${body}`, { FLOW_DIRECT_PATH: other }).directPath).toBe(true);
      expect(parse(`${HEADER}directPath: false\n${body}`, { FLOW_DIRECT_PATH: other }).directPath).toBe(
        false,
      );
    }
  });

  it("lets the data streams carry bundles unless FLOW_STREAM_BUNDLES is off (or 0, false)", () => {
    const body = `sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [s] }]\n`;
    expect(parse(`${HEADER}${body}`).streamBundles).toBe(true);
    for (const off of ["off", "0", "false", " OFF "])
      expect(parse(`${HEADER}${body}`, { FLOW_STREAM_BUNDLES: off }).streamBundles).toBe(false);
    for (const other of ["on", "1", ""])
      expect(parse(`${HEADER}${body}`, { FLOW_STREAM_BUNDLES: other }).streamBundles).toBe(true);
  });

  it("orders a fan-out / fan-in DAG and finds each source's consumers", () => {
    const pipeline = parse(`${HEADER}consumers:
  - { id: db, use: c, inputs: [clean, enrich] }
  - { id: audit, use: c, inputs: [web] }
processors:
  - { id: enrich, use: p, inputs: [clean] }
  - { id: clean, use: p, inputs: [web, files] }
sources:
  - { id: web, use: s }
  - { id: files, use: s }
`);
    expect(pipeline.stages.map((stage) => stage.id)).toEqual([
      "web",
      "files",
      "enrich",
      "clean",
      "db",
      "audit",
    ]);
    expect(pipeline.topologicalOrder).toEqual(["web", "files", "clean", "enrich", "db", "audit"]);
    expect(pipeline.consumersDownstream).toEqual({ web: ["db", "audit"], files: ["db"] });
    // Readers are listed in model order: sources, processors, consumers.
    expect(pipeline.stages.find((stage) => stage.id === "web")?.outputs).toEqual(["clean", "audit"]);
  });

  it("accepts x- extension fields holding YAML anchors for shared settings", () => {
    const pipeline = parse(`${HEADER}x-slow: &slow { maxAttempts: 10, maxDelayMs: 60000 }
sources: [{ id: s, use: a, retry: *slow }]
consumers: [{ id: c, use: b, inputs: [s], retry: *slow }]
`);
    expect(pipeline.stages[1]?.settings.retry).toEqual({
      maxAttempts: 10,
      initialDelayMs: 100,
      maxDelayMs: 60000,
    });
  });

  it("warns about stages whose output nothing reads, without rejecting the file", () => {
    const text = `${HEADER}sources:
  - { id: s, use: a }
  - { id: unused, use: a }
processors:
  - { id: dead-end, use: p, inputs: [s] }
consumers: [{ id: c, use: b, inputs: [s] }]
`;
    const pipeline = parse(text);
    expect(
      pipeline.warnings.map(
        (w) => `${w.location.file}:${w.location.line}:${w.location.column}: ${w.message}`,
      ),
    ).toEqual([
      `${at(text, "unused")} nothing reads the events of source "unused"; expected it in the inputs of a processor or consumer`,
      `${at(text, "dead-end")} nothing reads the events of processor "dead-end"; expected it in the inputs of a processor or consumer`,
    ]);
  });
});

describe("parsePipeline: ${ENV} interpolation", () => {
  const text = `${HEADER}state: { url: "postgres://flow:\${PGPASSWORD}@\${PGHOST:-localhost}/flow" }
defaults:
  inFlight: \${IN_FLIGHT:-4}
sources:
  - id: s
    use: a
    config:
      label: "\${IN_FLIGHT:-4}"
      literal: price $\${AMOUNT}
consumers: [{ id: c, use: b, inputs: [s] }]
`;

  it("fills in values before validation; unquoted results are read as YAML scalars, quoted ones stay strings", () => {
    const pipeline = parse(text, { PGPASSWORD: "s3cret", IN_FLIGHT: "16" });
    expect(pipeline.state).toEqual({ kind: "postgres", url: "postgres://flow:s3cret@localhost/flow" });
    expect(pipeline.defaults.inFlight).toBe(16);
    expect(pipeline.stages[0]?.config).toEqual({ label: "16", literal: "price ${AMOUNT}" });
  });

  it("uses defaults when variables are unset", () => {
    expect(parse(text, { PGPASSWORD: "x" }).defaults.inFlight).toBe(4);
  });

  it("reports an unset variable without default at its own position, and nothing else about that value", () => {
    expect(problems(text.replace("IN_FLIGHT:-4}\nsources", "IN_FLIGHT}\nsources"))).toEqual([
      `${at(text, "${PGPASSWORD}")} environment variable PGPASSWORD is not set, expected it to be set since \${PGPASSWORD} has no default`,
      `${at(text, "${IN_FLIGHT")} environment variable IN_FLIGHT is not set, expected it to be set since \${IN_FLIGHT} has no default`,
    ]);
  });

  it("checks the schema against the interpolated value", () => {
    expect(problems(text, { PGPASSWORD: "x", IN_FLIGHT: "many" })).toEqual([
      `${at(text, "${IN_FLIGHT")} defaults.inFlight: found "many", expected an integer`,
    ]);
  });
});

describe("parsePipeline: YAML that cannot be parsed", () => {
  it("reports syntax errors alone, with their position, even when the rest has mistakes too", () => {
    const text = `${HEADER}sources:
  - id: s
    use: a
    config: { count: 10
consumers:
  - { id: c, use: b, inputs: [nope] }
`;
    const messages = problems(text);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    for (const message of messages)
      expect(message).toMatch(/^pipelines\/orders\.yaml:\d+:\d+: invalid YAML: /);
    expect(messages.join("\n")).not.toContain("nope");
    expect(messages[0]).toMatch(/^pipelines\/orders\.yaml:(7|8):\d+:/);
  });

  it("points at a duplicate key", () => {
    const text = `${HEADER}sources: []\nsources: []\n`;
    expect(problems(text)).toEqual([
      `${at(text, "sources", 1)} invalid YAML: found the key "sources" a second time in one mapping, expected each key once`,
    ]);
  });

  it("rejects several documents in one file", () => {
    expect(problems(`${HEADER}---\n${HEADER}`)[0]).toContain("found a second document");
  });

  it("reports an alias used before its anchor", () => {
    const text = `${HEADER}sources: [{ id: s, use: a, retry: *slow }]\n`;
    expect(problems(text)).toEqual([
      `${at(text, "*slow")} found the alias *slow with no anchor &slow before it, expected an anchor defined above its aliases`,
    ]);
  });

  it("explains an unquoted ${...} inside a flow mapping", () => {
    try {
      parse(`${HEADER}sources: [{ id: s, use: a, config: { n: \${N} } }]\n`);
      throw new Error("expected a rejection");
    } catch (error) {
      expect((error as UserErrors).errors[0]?.hint).toContain("must be quoted");
    }
  });
});

describe("parsePipeline: several mistakes at once", () => {
  it("reports an unknown input, a duplicate id and a schema violation together, top to bottom", () => {
    const text = `${HEADER}sources:
  - id: orders
    use: "@flow/source-generator"
    batch: { maxSize: lots }
processors:
  - id: orders
    use: "@flow/processor-filter"
    inputs: [orders]
consumers:
  - id: db
    use: "@flow/consumer-sqlite"
    inputs: [ordrs]
`;
    let caught: unknown;
    try {
      parse(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UserErrors);
    const errors = (caught as UserErrors).errors;
    expect(errors.map((e) => e.message)).toEqual([
      `${at(text, "lots")} source "orders" batch.maxSize: found "lots", expected an integer`,
      `${at(text, "orders", 2)} found id "orders" a second time (first at ${at(text, "orders", 1).slice(0, -1)}), expected ids unique across sources, processors and consumers`,
      `${at(text, "ordrs")} consumer "db" reads from "ordrs", which is no stage; expected the id of a source or processor (orders)`,
    ]);
    expect(errors[2]?.hint).toBe('did you mean "orders"?');
    expect((caught as UserErrors).message).toBe(`${FILE}: 3 problems in the pipeline file`);
    expect((caught as UserErrors).exitCode).toBe(2);
  });
});

describe("parsePipeline: each rule", () => {
  const one = (text: string) => {
    const messages = problems(text);
    expect(messages).toHaveLength(1);
    return messages[0] as string;
  };
  const base = (sources: string, rest = "consumers: [{ id: c, use: b, inputs: [s] }]\n") =>
    `${HEADER}sources:\n${sources}${rest}`;

  it("reports an empty file", () => {
    expect(one("")).toBe(
      `${FILE}:1:1: pipeline: found an empty file, expected a pipeline (apiVersion: flow/v1, kind: Pipeline, ...)`,
    );
  });

  it("reports missing top-level fields", () => {
    expect(problems("apiVersion: flow/v1\nkind: Pipeline\n")).toEqual([
      `${FILE}:1:1: pipeline: found no "metadata", expected it to be set`,
      `${FILE}:1:1: pipeline: found no "sources", expected it to be set`,
      `${FILE}:1:1: pipeline: found no "consumers", expected it to be set`,
    ]);
  });

  it("reports a wrong apiVersion and kind", () => {
    const text = base("  - { id: s, use: a }\n")
      .replace("flow/v1", "flow/v2")
      .replace("kind: Pipeline", "kind: Job");
    expect(problems(text)).toEqual([
      `${at(text, "flow/v2")} apiVersion: found "flow/v2", expected "flow/v1"`,
      `${at(text, "Job")} kind: found "Job", expected "Pipeline"`,
    ]);
  });

  it("reports a bad pipeline name with the expected form", () => {
    const text = base("  - { id: s, use: a }\n").replace("name: orders", "name: Orders_1");
    expect(one(text)).toBe(
      `${at(text, "Orders_1")} metadata.name: found "Orders_1", expected lowercase letters, digits and '-' (e.g. "orders-to-db")`,
    );
  });

  it("reports an unknown field at its key, with a guess", () => {
    const text = base("  - id: s\n    use: a\n    bacth: { maxSize: 5 }\n");
    expect(one(text)).toBe(
      `${at(text, "bacth")} source "s": found unknown field "bacth", expected one of id, use, command, address, dns, registry, config, batch, inFlight, retry, timeouts, restart, contractMajor, commitIntervalMs`,
    );
    try {
      parse(text);
    } catch (error) {
      expect((error as UserErrors).errors[0]?.hint).toBe('did you mean "batch"?');
    }
  });

  it("reports a bad stage id", () => {
    const text = base("  - { id: 9lives, use: a }\n", "consumers: [{ id: c, use: b, inputs: [s] }]\n");
    expect(problems(text)).toContain(
      `${at(text, "9lives")} source "9lives" id: found "9lives", expected a lowercase letter, then lowercase letters, digits, '_' or '-' (e.g. "orders")`,
    );
  });

  it("reports a directPath that is not true or false, where it is written", () => {
    const text = base("  - { id: s, use: a }\n").replace("sources:", "directPath: sometimes\nsources:");
    expect(one(text)).toBe(`${at(text, "sometimes")} directPath: found "sometimes", expected true or false`);
  });

  it("reports numbers out of range", () => {
    const text = base("  - { id: s, use: a, inFlight: 0, batch: { lingerMs: -1 } }\n");
    expect(problems(text)).toEqual([
      `${at(text, "0,")} source "s" inFlight: found 0, expected an integer >= 1`,
      `${at(text, "-1")} source "s" batch.lingerMs: found -1, expected an integer >= 0`,
    ]);
  });

  it("reads batch.maxBytes beside maxSize, merged field by field, and reports one that is not a positive integer", () => {
    const merged = base(
      "  - { id: s, use: a, batch: { maxSize: 10 } }\n",
      "consumers: [{ id: c, use: b, inputs: [s], batch: { maxBytes: 1048576 } }]\ndefaults: { batch: { maxBytes: 4194304 } }\n",
    );
    const pipeline = parse(merged);
    expect(
      pipeline.stages.map((stage) => [stage.id, stage.settings.batch.maxSize, stage.settings.batch.maxBytes]),
    ).toEqual([
      ["s", 10, 4_194_304],
      ["c", 100, 1_048_576],
    ]);
    const text = base(
      "  - { id: s, use: a, batch: { maxBytes: 0 } }\n",
      "consumers: [{ id: c, use: b, inputs: [s], batch: { maxBytes: 64MiB } }]\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, "0 }")} source "s" batch.maxBytes: found 0, expected an integer >= 1`,
      `${at(text, "64MiB")} consumer "c" batch.maxBytes: found "64MiB", expected an integer`,
    ]);
  });

  it("reads a contractMajor pin, inherited from defaults, and refuses a major this core does not speak", () => {
    const pinned = base(
      "  - { id: s, use: a, contractMajor: 2 }\n",
      "consumers: [{ id: c, use: b, inputs: [s] }, { id: d, use: b, inputs: [s], contractMajor: 2 }]\ndefaults: { contractMajor: 1 }\n",
    );
    expect(parse(pinned).stages.map((stage) => [stage.id, stage.settings.contractMajor])).toEqual([
      ["s", 2],
      ["c", 1],
      ["d", 2],
    ]);
    // No pin: no such setting at all (a reload compares settings deeply).
    expect("contractMajor" in (parse(base("  - { id: s, use: a }\n")).stages[0]?.settings ?? {})).toBe(false);
    const text = base(
      "  - { id: s, use: a, contractMajor: 3 }\n",
      "consumers: [{ id: c, use: b, inputs: [s], contractMajor: 0 }]\ndefaults: { contractMajor: 9 }\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, "3 }")} source "s" contractMajor: found 3, expected a major this core speaks with sources (source_service v1, v2)`,
      `${at(text, "0 }")} consumer "c" contractMajor: found 0, expected an integer >= 1`,
      `${at(text, "9 }")} defaults.contractMajor: found 9, expected a major this core speaks with every family (source_service v1, v2; processor_service v1, v2; consumer_service v1, v2)`,
    ]);
    // flow validate still asks the services of a file with problems: not at a major Core cannot speak.
    let salvaged: Pipeline | undefined;
    try {
      parse(base("  - { id: s, use: a, contractMajor: 3 }\n"));
    } catch (error) {
      salvaged = salvageOf(error);
    }
    expect(salvaged?.stages.map((stage) => [stage.id, stage.settings.contractMajor])).toEqual([
      ["s", undefined],
      ["c", undefined],
    ]);
  });

  it("reads a source's commitIntervalMs, inherited from defaults; processors and consumers keep none", () => {
    const text = base(
      "  - { id: s, use: a, commitIntervalMs: 0 }\n  - { id: t, use: a }\n",
      "processors: [{ id: p, use: b, inputs: [t] }]\nconsumers: [{ id: c, use: b, inputs: [s, p] }]\ndefaults: { commitIntervalMs: 500 }\n",
    );
    const pipeline = parse(text);
    expect(pipeline.defaults.commitIntervalMs).toBe(500);
    expect(pipeline.stages.map((stage) => [stage.id, stage.settings.commitIntervalMs])).toEqual([
      ["s", 0],
      ["t", 500],
      ["p", undefined],
      ["c", undefined],
    ]);
    // A processor or consumer has no such key, so a new interval in defaults reloads only sources.
    expect(pipeline.stages.filter((stage) => "commitIntervalMs" in stage.settings).map((s) => s.id)).toEqual([
      "s",
      "t",
    ]);
    // Written nowhere: no key, the run's interval applies (100 ms built in).
    expect("commitIntervalMs" in (parse(base("  - { id: s, use: a }\n")).stages[0]?.settings ?? {})).toBe(
      false,
    );
  });

  it("rejects commitIntervalMs on a processor or a consumer, at its key, and one below 0", () => {
    const text = base(
      "  - { id: s, use: a, commitIntervalMs: -1 }\n",
      "processors:\n  - { id: p, use: b, inputs: [s], commitIntervalMs: 0 }\nconsumers:\n  - id: c\n    use: b\n    inputs: [p]\n    commitIntervalMs: 50\n",
    );
    let errors: readonly UserError[] = [];
    try {
      parse(text);
    } catch (error) {
      errors = (error as UserErrors).errors;
    }
    expect(errors.map((error) => error.message)).toEqual([
      `${at(text, "-1")} source "s" commitIntervalMs: found -1, expected an integer >= 0`,
      `${at(text, "commitIntervalMs", 1)} processor "p": found "commitIntervalMs", expected it on sources only: a processor commits no checkpoint, the sources its events come from do`,
      `${at(text, "commitIntervalMs", 2)} consumer "c": found "commitIntervalMs", expected it on sources only: a consumer commits no checkpoint, the sources its events come from do`,
    ]);
    expect(errors[1]?.hint).toBe(
      "set commitIntervalMs on the sources this stage reads from, or in defaults (where it applies to every source)",
    );
  });

  it("rejects a source with inputs", () => {
    const text = base(
      "  - { id: s, use: a }\n  - { id: t, use: a, inputs: [s] }\n",
      "consumers: [{ id: c, use: b, inputs: [s, t] }]\n",
    );
    expect(one(text)).toBe(
      `${at(text, "inputs")} source "t": found "inputs", expected none: a source brings events in and reads from no stage`,
    );
  });

  it("rejects a processor and a consumer without inputs", () => {
    const text = base(
      "  - { id: s, use: a }\n",
      "processors:\n  - { id: p, use: b }\nconsumers:\n  - { id: c, use: b }\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, "{ id: p")} processor "p": found no inputs, expected "inputs" naming the stages whose events the processor reads`,
      `${at(text, "{ id: c")} consumer "c": found no inputs, expected "inputs" naming the stages whose events the consumer reads`,
    ]);
  });

  it("suggests brackets for inputs written as a single string", () => {
    const text = base("  - { id: s, use: a }\n", "consumers: [{ id: c, use: b, inputs: s }]\n");
    try {
      parse(text);
      throw new Error("expected a rejection");
    } catch (error) {
      const [only] = (error as UserErrors).errors;
      expect(only?.message).toBe(`${at(text, "s }]")} consumer "c" inputs: found "s", expected a list`);
      expect(only?.hint).toBe("write it as a list: [s]");
    }
  });

  it("rejects an empty inputs list and a repeated input", () => {
    const text = base(
      "  - { id: s, use: a }\n",
      "consumers:\n  - { id: c, use: b, inputs: [] }\n  - { id: d, use: b, inputs: [s, s] }\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, "[]")} consumer "c" inputs: found an empty list, expected at least 1`,
      `${at(text, "s]")} consumer "d" inputs: found "s" twice, expected each entry once`,
    ]);
  });

  it("rejects a consumer used as an input", () => {
    const text = base(
      "  - { id: s, use: a }\n",
      "consumers:\n  - { id: c, use: b, inputs: [s] }\n  - { id: d, use: b, inputs: [c] }\n",
    );
    expect(one(text)).toBe(
      `${at(text, "c]")} consumer "d" reads from consumer "c", expected a source or processor: consumers emit no events`,
    );
  });

  it("names a cycle and points at the input that closes it", () => {
    const text = base(
      "  - { id: s, use: a }\n",
      "processors:\n  - { id: p, use: b, inputs: [s, r] }\n  - { id: q, use: b, inputs: [p] }\n  - { id: r, use: b, inputs: [q] }\nconsumers: [{ id: c, use: b, inputs: [r] }]\n",
    );
    expect(one(text)).toBe(
      `${at(text, "r] }")} found the cycle p -> q -> r -> p, expected inputs to form a DAG (no stage may read its own output)`,
    );
  });

  it("rejects a stage reading its own output", () => {
    const text = base(
      "  - { id: s, use: a }\n",
      "processors:\n  - { id: p, use: b, inputs: [s, p] }\nconsumers: [{ id: c, use: b, inputs: [p] }]\n",
    );
    expect(one(text)).toBe(
      `${at(text, "p] }")} processor "p" reads its own output (cycle p -> p), expected inputs to form a DAG`,
    );
  });

  it("requires exactly one service locator", () => {
    const text = base(
      '  - { id: s, config: {} }\n  - { id: t, use: a, address: "localhost:1" }\n',
      "consumers: [{ id: c, use: b, inputs: [s, t] }]\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, "{ id: s")} source "s": found no way to find its service, expected exactly one of use, command, address, dns, registry`,
      `${at(text, "address")} source "t": found "use" and "address", expected exactly one of use, command, address, dns, registry`,
    ]);
  });

  it("checks locator values the schema cannot", () => {
    const text = base(
      `  - { id: s, address: "localhost:70000" }\n  - { id: t, dns: "svc:0" }\n  - { id: u, command: "node 'svc.js" }\n  - { id: v, command: [""] }\n`,
      "consumers: [{ id: c, use: b, inputs: [s, t, u, v] }]\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, '"localhost')} source "s" address: found "localhost:70000", expected host:port with a port from 1 to 65535`,
      `${at(text, '"svc:0"')} source "t" dns: found "svc:0", expected name:port with a port from 1 to 65535`,
      `${at(text, `"node 'svc`)} source "u" command: found "node 'svc.js" with an unterminated quote, expected matching quotes`,
      `${at(text, '[""]')} source "v" command: found no program to run, expected the program first, then its arguments`,
    ]);
  });

  it("reports locator values of the wrong form", () => {
    const text = base(
      `  - { id: s, address: localhost }\n  - { id: t, use: "Not A Package" }\n`,
      "consumers: [{ id: c, use: b, inputs: [s, t] }]\n",
    );
    expect(problems(text)).toEqual([
      `${at(text, "localhost")} source "s" address: found "localhost", expected host:port (e.g. "localhost:50051") or unix:/path`,
      `${at(text, '"Not')} source "t" use: found "Not A Package", expected a package name such as "@flow/source-generator"`,
    ]);
  });

  it("rejects a backoff starting above its ceiling, wherever the two bounds come from", () => {
    const text = `${HEADER}defaults:
  retry: { maxDelayMs: 50 }
sources:
  - { id: s, use: a, restart: { initialDelayMs: 9000 } }
consumers: [{ id: c, use: b, inputs: [s] }]
`;
    expect(problems(text)).toEqual([
      `${at(text, "retry")} defaults.retry: found initialDelayMs 100 above maxDelayMs 50, expected initialDelayMs <= maxDelayMs`,
      `${at(text, "restart")} source "s" restart: found initialDelayMs 9000 above maxDelayMs 5000, expected initialDelayMs <= maxDelayMs`,
    ]);
  });

  it("rejects a state URL of another kind", () => {
    const text = base("  - { id: s, use: a }\n").replace(
      "sources:",
      'state: { url: "mysql://db" }\nsources:',
    );
    expect(one(text)).toBe(
      `${at(text, '"mysql')} state.url: found "mysql://db", expected sqlite:<path> or postgres://user:password@host:port/database`,
    );
  });

  it("gives every problem as a UserError whose message starts with file:line:col", () => {
    try {
      parse(base("  - { id: s, use: a, inFlight: x }\n"));
    } catch (error) {
      const errors = (error as UserErrors).errors;
      expect(
        errors.every((e) => e instanceof UserError && /^pipelines\/orders\.yaml:\d+:\d+: /.test(e.message)),
      ).toBe(true);
      return;
    }
    throw new Error("expected a rejection");
  });
});

describe("loadPipeline", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flow-pipeline-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the file and resolves relative paths against its folder", () => {
    const file = join(dir, "orders.yaml");
    writeFileSync(
      file,
      QUICKSTART.replace("defaults:", "deadLetters: { path: dead/letters.jsonl }\ndefaults:"),
    );
    const pipeline = loadPipeline(file, { env: {} });
    expect(pipeline.file).toBe(file);
    expect(pipeline.baseDir).toBe(dir);
    expect(pipeline.state).toMatchObject({ kind: "sqlite", path: join(dir, ".flow/state.db") });
    expect(pipeline.deadLetters.path).toBe(join(dir, "dead/letters.jsonl"));
    expect(pipeline.stages[0]?.location.file).toBe(file);
  });

  it("names the file in its problems as the caller wrote it", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(
      file,
      `${HEADER}sources: [{ id: s, use: a }]\nconsumers: [{ id: c, use: b, inputs: [t] }]\n`,
    );
    expect(() => loadPipeline(file, { env: {} })).toThrow(UserErrors);
    try {
      loadPipeline(file, { env: {} });
    } catch (error) {
      expect((error as UserErrors).errors[0]?.message).toMatch(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:5:`),
      );
    }
  });

  it("reports a missing file as a user error", () => {
    expect(() => loadPipeline(join(dir, "nope.yaml"))).toThrow(/nope\.yaml: no such pipeline file/);
  });
});
