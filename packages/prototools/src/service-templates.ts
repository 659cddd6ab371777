/**
 * The files of a new service package, by family. Each template is the smallest service that does
 * something observable, tested over gRPC the way the repository's own services are, so that
 * `pnpm install && pnpm build && pnpm test` pass before anyone edits it.
 */

export type ServiceFamily = "source" | "processor" | "consumer";

export interface TemplateInput {
  family: ServiceFamily;
  /** kebab-case: `order-enricher`. */
  name: string;
  /** npm package name: `@flow/processor-order-enricher`. */
  packageName: string;
  /** The package folder relative to the repository root's parent chain: `../..`. */
  toRoot: string;
  /** Dependency versions, matched to the SDK's. */
  versions: { grpc: string; protobuf: string };
  /** The family contract's major the package speaks. */
  major: number;
  /**
   * Set for a service in a repository of its own (`flow new --standalone`): the package sits at
   * that repository's root and installs Flow's packages and its build tools from npm instead of
   * the workspace.
   */
  standalone?: StandaloneVersions;
  /**
   * In a workspace whose packages are installable (not private): their license. The package is
   * then not private either; without it, it is.
   */
  license?: string;
}

/** The build and test tools a standalone service installs, at the versions Flow builds with. */
export const STANDALONE_TOOLCHAIN = [
  "@bufbuild/buf",
  "@swc/core",
  "@swc/jest",
  "@types/jest",
  "@types/node",
  "jest",
  "ts-proto",
  "typescript",
] as const;

export interface StandaloneVersions {
  /** The range of Flow's packages (@flow/sdk, @flow/cli, @flow/testing): `^0.1.0`. */
  flow: string;
  /** A version for each of STANDALONE_TOOLCHAIN. */
  toolchain: Record<string, string>;
}

interface Names {
  /** flow-processor-order-enricher */
  component: string;
  /** orderEnricherProcessor */
  definition: string;
  /** OrderEnricherConfig */
  config: string;
  /** orderEnricherConfigSchema */
  schema: string;
  /** order-enricher-processor */
  file: string;
  /** ProcessorService */
  service: string;
  /** gen/processor_service/v1/processor */
  gen: string;
  /** serveProcessor */
  serve: string;
  /** ProcessorDefinition */
  definitionType: string;
  /**
   * An expression of a FlowEvent as the family contract carries it: itself at v1, converted by
   * the SDK's toCloudEvent from v2 on (event v2, the CloudEvents Protobuf Format).
   */
  onWire: (event: string) => string;
  /** What the spec imports from @flow/sdk for `onWire`. */
  wireImports: string[];
  /**
   * The start message's `peers` (the direct data path, from family v2.1), written out where the
   * contract has it: the generated encoder needs every repeated field. Empty: the test plays a
   * Core that names no peers.
   */
  startPeers: string;
}

function names(input: TemplateInput): Names {
  const camel = input.name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
  const pascal = camel.charAt(0).toUpperCase() + camel.slice(1);
  const family = input.family.charAt(0).toUpperCase() + input.family.slice(1);
  return {
    component: `flow-${input.family}-${input.name}`,
    definition: `${camel}${family}`,
    config: `${pascal}Config`,
    schema: `${camel}ConfigSchema`,
    file: `${input.name}-${input.family}`,
    service: `${family}Service`,
    gen: `gen/${input.family}_service/v${input.major}/${input.family}`,
    serve: `serve${family}`,
    definitionType: `${family}Definition`,
    onWire: (event) => (input.major >= 2 ? `toCloudEvent(${event})` : event),
    wireImports: input.major >= 2 ? ["toCloudEvent"] : [],
    startPeers: input.major >= 2 ? ", peers: []" : "",
  };
}

/** Every file of the package, by path relative to the package folder. */
export function serviceTemplates(input: TemplateInput): Record<string, string> {
  const n = names(input);
  return {
    "package.json": packageJson(input, n),
    "tsconfig.json": `${JSON.stringify(
      {
        extends: `${input.toRoot}/tsconfig.base.json`,
        compilerOptions: { rootDir: "src", outDir: "dist" },
        include: ["src"],
      },
      null,
      2,
    )}\n`,
    "tsconfig.build.json": `${JSON.stringify({ extends: "./tsconfig.json", exclude: ["src/**/*.spec.ts", "src/test-support/**"] }, null, 2)}\n`,
    "jest.config.js": `module.exports = { ...require("${input.toRoot}/jest.base.js") };\n`,
    "README.md": input.standalone ? standaloneReadme(input, n) : readme(input, n),
    ...(input.standalone
      ? { ".gitignore": STANDALONE_GITIGNORE, "pipeline.yaml": examplePipeline(input) }
      : {}),
    "src/index.ts": `export * from "./${n.file}";\n`,
    "src/main.ts": main(n),
    [`src/${n.file}.ts`]: DEFINITIONS[input.family](n),
    [`src/${n.file}.spec.ts`]: SPECS[input.family](n),
  };
}

function packageJson(input: TemplateInput, n: Names): string {
  const standalone = input.standalone;
  const installable = !standalone && input.license !== undefined;
  const manifest = {
    name: input.packageName,
    version: "0.1.0",
    // A standalone service is not published by accident; it runs from its folder or an install.
    ...(installable ? {} : { private: true }),
    description: `Flow ${input.family}: ${DESCRIPTIONS[input.family]}`,
    ...(installable ? { license: input.license } : {}),
    main: "dist/index.js",
    types: "dist/index.d.ts",
    exports: {
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
      "./package.json": "./package.json",
    },
    bin: { [n.component]: "dist/main.js" },
    files: ["dist", "proto", "proto-pins.yaml", "proto-pins.lock.yaml", "README.md"],
    scripts: standalone ? STANDALONE_SCRIPTS : workspaceScripts(input.toRoot),
    dependencies: {
      "@bufbuild/protobuf": input.versions.protobuf,
      "@flow/sdk": standalone ? standalone.flow : "workspace:*",
      "@grpc/grpc-js": input.versions.grpc,
    },
    devDependencies: standalone
      ? standaloneDevDependencies(input.family, standalone)
      : { "@flow/testing": "workspace:*" },
    // pnpm runs no dependency's install script unless listed: Core's SQLite store compiles one.
    ...(standalone ? { pnpm: { onlyBuiltDependencies: ["@swc/core", "better-sqlite3"] } } : {}),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** In the workspace turbo runs vendor -> generate -> build; each is a script of its own. */
function workspaceScripts(toRoot: string): Record<string, string> {
  return {
    vendor: `node ${toRoot}/scripts/vendor.mjs --check --quiet .`,
    generate: `buf generate proto --template ${toRoot}/buf.gen.yaml`,
    build: "tsc -p tsconfig.build.json",
    typecheck: "tsc -p tsconfig.json --noEmit",
    test: "jest --json --outputFile=.jest-results.json",
    start: "node dist/main.js",
  };
}

// Vendoring is checked by the installed `flow` (there is no scripts/vendor.mjs outside Flow's
// workspace), then code is generated and compiled: one build script, since npm has no turbo.
const STANDALONE_SCRIPTS = {
  vendor: "flow proto vendor --check --quiet .",
  generate: "buf generate proto --template buf.gen.yaml",
  build:
    "flow proto vendor --check --quiet . && buf generate proto --template buf.gen.yaml && tsc -p tsconfig.build.json",
  typecheck: "tsc -p tsconfig.json --noEmit",
  test: "jest",
  start: "node dist/main.js",
};

/** The flow command, the test kit, the example pipeline's services and the build tools. */
function standaloneDevDependencies(
  family: ServiceFamily,
  versions: StandaloneVersions,
): Record<string, string> {
  return Object.fromEntries(
    [
      ["@flow/cli", versions.flow] as const,
      ["@flow/testing", versions.flow] as const,
      ...EXAMPLE_PARTNERS[family].map((partner) => [partner, versions.flow] as const),
      ...STANDALONE_TOOLCHAIN.map((tool) => [tool, versions.toolchain[tool] ?? "*"] as const),
    ].sort(([a], [b]) => a.localeCompare(b)),
  );
}

const STANDALONE_GITIGNORE = `node_modules/
dist/
src/gen/
*.tsbuildinfo
.jest-results.json
.flow/
`;

const DESCRIPTIONS: Record<ServiceFamily, string> = {
  source: "emits a numbered series of events, resumable from its checkpoint",
  processor: "passes events on, optionally giving them a new type",
  consumer: "appends events to a JSON Lines file",
};

function main(n: Names): string {
  return `#!/usr/bin/env node
import { ${n.serve} } from "@flow/sdk";
import { ${n.definition} } from "./${n.file}";

// Prints the handshake line Flow Core reads, serves health and reflection, stops on SIGTERM. The
// SDK finds this package (package.json, proto/) and its generated ${n.service} in src/gen.
void ${n.serve}(${n.definition});
`;
}

const DEFINITIONS: Record<ServiceFamily, (n: Names) => string> = {
  processor: (n) => `import { join } from "node:path";
import { type JsonSchema, type ProcessorDefinition, readPackageVersion } from "@flow/sdk";

export interface ${n.config} {
  /** When set, every event leaves with this CloudEvents type. */
  type?: string;
}

export const ${n.schema}: JsonSchema = {
  title: "${n.component} configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    type: { type: "string", minLength: 1, description: "When set, every event leaves with this CloudEvents type." },
  },
};

/** Passes every event on, retyped when \`type\` is set. This is where the processor's logic goes. */
export const ${n.definition}: ProcessorDefinition<${n.config}> = {
  name: "${n.component}",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description: "${DESCRIPTIONS.processor}",
  configSchema: ${n.schema},
  features: { ordering: "total", deadLetters: true },

  process(event, config) {
    return config.type ? { ...event, type: config.type } : event;
  },
};
`,
  source: (n) => `import { join } from "node:path";
import { createEvent, type JsonSchema, readPackageVersion, type SourceDefinition } from "@flow/sdk";

export interface ${n.config} {
  /** How many events to emit in all. */
  count?: number;
}

export const ${n.schema}: JsonSchema = {
  title: "${n.component} configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    count: { type: "integer", minimum: 0, default: 10, description: "How many events to emit in all." },
  },
};

// The checkpoint is the number of events emitted so far, as text: resuming from it emits the rest.
const position = (emitted: number): Buffer => Buffer.from(String(emitted), "utf8");

/** Emits events 1..count in batches, resumable from its checkpoint. This is where the source's logic goes. */
export const ${n.definition}: SourceDefinition<${n.config}> = {
  name: "${n.component}",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description: "${DESCRIPTIONS.source}",
  configSchema: ${n.schema},
  producedEventTypes: ["${n.component}.tick"],
  features: { checkpointing: true, ordering: "total" },

  async *read(config, context) {
    const count = config.count ?? 10;
    const batchSize = context.maxBatchSize > 0 ? context.maxBatchSize : 100;
    let emitted = context.checkpoint ? Number(context.checkpoint.toString("utf8")) : 0;
    while (emitted < count && !context.signal.aborted) {
      const end = Math.min(count, emitted + batchSize);
      const events = [];
      for (let index = emitted + 1; index <= end; index++) {
        events.push(createEvent({ id: String(index), source: "/${n.component}", type: "${n.component}.tick", data: { index } }));
      }
      emitted = end;
      yield { events, checkpoint: { position: position(emitted), description: \`after event \${emitted}\` } };
    }
  },
};
`,
  consumer: (n) => `import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { type ConsumerDefinition, eventJson, type JsonSchema, readPackageVersion } from "@flow/sdk";

export interface ${n.config} {
  /** The JSON Lines file events are appended to. */
  path: string;
}

export const ${n.schema}: JsonSchema = {
  title: "${n.component} configuration",
  type: "object",
  additionalProperties: false,
  required: ["path"],
  properties: {
    path: { type: "string", minLength: 1, description: "The JSON Lines file events are appended to." },
  },
};

/** Appends each event as one JSON line. This is where the consumer's logic goes. */
export const ${n.definition}: ConsumerDefinition<${n.config}> = {
  name: "${n.component}",
  // package.json sits one level above src/ and dist/.
  version: readPackageVersion(join(__dirname, "..")),
  description: "${DESCRIPTIONS.consumer}",
  configSchema: ${n.schema},

  async write(events, config) {
    const lines = events.map((event) => {
      const json = event.datacontenttype === "application/json";
      return JSON.stringify({ id: event.id, source: event.source, type: event.type, data: json ? eventJson(event) : event.data.toString("base64") });
    });
    // Resolving only after the append means the acknowledgement Core receives is durable.
    await appendFile(config.path, lines.map((line) => \`\${line}\\n\`).join(""));
  },
};
`,
};

interface SpecImports {
  /** Lines importing node modules besides node:path. */
  node?: string;
  /** Names imported from @flow/sdk besides the serve function. */
  sdk?: string[];
  /** Names imported from the generated family module besides DescribeResponse, client and service. */
  gen?: string[];
}

function specHeader(n: Names, family: ServiceFamily, imports: SpecImports): string {
  const sdk = [...(imports.sdk ?? []), n.serve];
  const gen = ["type DescribeResponse", ...(imports.gen ?? []), `${n.service}Client`, `${n.service}Service`];
  return `${imports.node ?? ""}import { join } from "node:path";
import { ${sdk.join(", ")} } from "@flow/sdk";
import { StreamReader, serveForTests, unary } from "@flow/testing";
import { Family } from "./gen/component/v1/component";
import { ${gen.join(", ")} } from "./${n.gen}";
import { ${n.definition} } from "./${n.file}";

// Served in this process on a free port for this file's tests, with a client of the generated code.${n.wireImports.length > 0 ? "\n// The contract carries events v2 (CloudEvents); the service's handlers work on FlowEvent either way." : ""}
const served = serveForTests(
  ${n.serve},
  ${n.definition},
  { service: ${n.service}Service, packageDir: join(__dirname, "..") },
  ${n.service}Client,
);

it("describes itself over gRPC", async () => {
  const response = await unary<DescribeResponse>((done) => served.client.describe({}, done));
  expect(response.component).toEqual(
    expect.objectContaining({ name: "${n.component}", family: Family.FAMILY_${family.toUpperCase()} }),
  );
});
`;
}

const SPECS: Record<ServiceFamily, (n: Names) => string> = {
  processor: (n) => `${specHeader(n, "processor", {
    sdk: ["createEvent", ...n.wireImports],
    gen: ["type ProcessRequest", "type ProcessResponse"],
  })}
it("answers a batch with its events, retyped", async () => {
  const stream = served.client.process();
  const reader = new StreamReader<ProcessRequest, ProcessResponse>(stream);
  stream.write({ request: { $case: "start", value: { configJson: JSON.stringify({ type: "retyped" }), stageId: "test"${n.startPeers} } } });
  const events = ["1", "2"].map((id) => ${n.onWire('createEvent({ id, source: "/test", type: "original", data: { id } })')});
  stream.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });

  const answer = await reader.next();
  stream.end();
  await reader.finished;

  expect(answer.response?.$case).toBe("batch");
  if (answer.response?.$case !== "batch") return;
  expect(answer.response.value.inputSequence).toBe(1n);
  expect(answer.response.value.batch?.events.map((event) => [event.id, event.type])).toEqual([
    ["1", "retyped"],
    ["2", "retyped"],
  ]);
});
`,
  source: (n) => `${specHeader(n, "source", { gen: ["type ReadRequest", "type ReadResponse"] })}
/** Reads until the source says it is exhausted; returns the batches' event ids and checkpoints. */
async function readAll(config: object, checkpoint?: string): Promise<{ ids: string[][]; checkpoints: string[] }> {
  const stream = served.client.read();
  const reader = new StreamReader<ReadRequest, ReadResponse>(stream);
  stream.write({
    request: {
      $case: "start",
      value: {
        configJson: JSON.stringify(config),
        ...(checkpoint ? { checkpoint: { position: Buffer.from(checkpoint), description: "" } } : {}),
        initialCredits: 10,
        maxBatchSize: 2,
        maxBatchBytes: 0n,
        lingerMs: 0,
        stageId: "test"${n.startPeers},
      },
    },
  });
  const ids: string[][] = [];
  const checkpoints: string[] = [];
  for (;;) {
    const message = await reader.next();
    if (message.response?.$case !== "batch") break;
    ids.push(message.response.value.batch?.events.map((event) => event.id) ?? []);
    checkpoints.push(message.response.value.checkpoint?.position.toString() ?? "");
  }
  stream.end();
  await reader.finished;
  return { ids, checkpoints };
}

it("emits count events in batches, each with the checkpoint after it", async () => {
  expect(await readAll({ count: 3 })).toEqual({ ids: [["1", "2"], ["3"]], checkpoints: ["2", "3"] });
});

it("resumes after a checkpoint", async () => {
  expect(await readAll({ count: 3 }, "2")).toEqual({ ids: [["3"]], checkpoints: ["3"] });
});
`,
  consumer: (n) => `${specHeader(n, "consumer", {
    node: 'import { mkdtempSync, readFileSync, rmSync } from "node:fs";\nimport { tmpdir } from "node:os";\n',
    sdk: ["createEvent", ...n.wireImports],
    gen: ["AckStatus", "type WriteRequest", "type WriteResponse"],
  })}
it("appends a batch as JSON lines and acknowledges it once written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "${n.component}-"));
  try {
    const path = join(dir, "events.jsonl");
    const stream = served.client.write();
    const reader = new StreamReader<WriteRequest, WriteResponse>(stream);
    stream.write({ request: { $case: "start", value: { configJson: JSON.stringify({ path }), stageId: "test" } } });
    const events = ["1", "2"].map((id) => ${n.onWire('createEvent({ id, source: "/test", type: "t", data: { id } })')});
    stream.write({ request: { $case: "batch", value: { sequence: 1n, batch: { events } } } });

    const answer = await reader.next();
    stream.end();
    await reader.finished;

    expect(answer.response).toEqual({ $case: "ack", value: expect.objectContaining({ sequence: 1n, status: AckStatus.ACK_STATUS_WRITTEN }) });
    const lines = readFileSync(path, "utf8").trim().split("\\n").map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { id: "1", source: "/test", type: "t", data: { id: "1" } },
      { id: "2", source: "/test", type: "t", data: { id: "2" } },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
`,
};

function pipelineStage(input: TemplateInput): string {
  return {
    source: `sources:\n  - id: ticks\n    use: "${input.packageName}"\n    config: { count: 100 }`,
    processor: `processors:\n  - id: retyped\n    use: "${input.packageName}"\n    inputs: [orders]\n    config: { type: com.example.seen }`,
    consumer: `consumers:\n  - id: out\n    use: "${input.packageName}"\n    inputs: [orders]\n    config: { path: .flow/out.jsonl }`,
  }[input.family];
}

function configTable(input: TemplateInput, n: Names): string {
  const row = {
    source: "| `count` | `10` | how many events to emit in all |",
    processor: "| `type` | unchanged | the CloudEvents type every event leaves with |",
    consumer: "| `path` | required | the JSON Lines file events are appended to |",
  }[input.family];
  return `## Configuration

| field | default | meaning |
| --- | --- | --- |
${row}

The JSON Schema is \`${n.schema}\` in [\`src/${n.file}.ts\`](src/${n.file}.ts); \`flow describe ${input.packageName}\` prints it.`;
}

/** From v2 on, what the wire carries and what the handlers see. */
function wireNote(input: TemplateInput): string {
  if (input.major < 2) return "";
  return ` Its events travel as event v2, the CloudEvents Protobuf Format; the handlers work on \`FlowEvent\` all the same (the SDK converts at the wire, and \`toCloudEvent\` does in the test).`;
}

function readme(input: TemplateInput, n: Names): string {
  return `# ${input.packageName}

A Flow **${input.family}**: ${DESCRIPTIONS[input.family]}. Scaffolded by \`flow new ${input.family} ${input.name}\`;
its logic is in [\`src/${n.file}.ts\`](src/${n.file}.ts).

It speaks \`${input.family}_service\` v${input.major}, vendored (with the shared types it imports) into
\`proto/\` by \`git read-tree\` and pinned in \`proto-pins.yaml\`; code is generated from there into
\`src/gen\` by the build. Never edit \`proto/\`: move a pin with \`pnpm flow proto upgrade <this folder>\`.${wireNote(input)}

## In a pipeline

\`\`\`yaml
${pipelineStage(input)}
\`\`\`

${configTable(input, n)}

## Develop

\`\`\`sh
pnpm install
pnpm build --filter ${input.packageName}...   # vendor check, generate, compile
pnpm --filter ${input.packageName} test
\`\`\`
`;
}

/** A complete pipeline around the new service, with built-in services on the other side(s). */
function examplePipeline(input: TemplateInput): string {
  const generator = `sources:\n  - id: orders\n    use: "@flow/source-generator"\n    config: { count: 100 }`;
  const fileOut = (from: string) =>
    `consumers:\n  - id: out\n    use: "@flow/consumer-file"\n    inputs: [${from}]\n    config: { path: .flow/out.jsonl }`;
  const body = {
    source: `${pipelineStage(input)}\n${fileOut("ticks")}`,
    processor: `${generator}\n${pipelineStage(input)}\n${fileOut("retyped")}`,
    consumer: `${generator}\n${pipelineStage(input)}`,
  }[input.family];
  return `apiVersion: flow/v1\nkind: Pipeline\nmetadata:\n  name: try-${input.name}\n\n${body.replaceAll("\nconsumers:", "\n\nconsumers:").replaceAll("\nprocessors:", "\n\nprocessors:")}\n`;
}

/** The built-in services the example pipeline runs the new service with. */
const EXAMPLE_PARTNERS: Record<ServiceFamily, string[]> = {
  source: ["@flow/consumer-file"],
  processor: ["@flow/consumer-file", "@flow/source-generator"],
  consumer: ["@flow/source-generator"],
};

function standaloneReadme(input: TemplateInput, n: Names): string {
  return `# ${input.packageName}

A Flow **${input.family}** in a repository of its own: ${DESCRIPTIONS[input.family]}. Scaffolded by
\`flow new ${input.family} ${input.name} --standalone\`; its logic is in [\`src/${n.file}.ts\`](src/${n.file}.ts).

It speaks \`${input.family}_service\` v${input.major} of Flow's released contracts, vendored (with the shared
types it imports) into \`proto/\` by \`git read-tree\` from the Flow release fetched into
\`refs/remotes/flow/release\` (remote \`flow\`), pinned in \`proto-pins.yaml\` and locked by git tree id in
\`proto-pins.lock.yaml\`. \`proto-releases.yaml\` is Flow's release ledger at that release, and
\`buf.gen.yaml\`, \`tsconfig.base.json\` and \`jest.base.js\` are Flow's build settings from it. Never edit
\`proto/\`.${wireNote(input)} To move to a newer Flow release:

\`\`\`sh
git fetch flow
git show refs/remotes/flow/release:proto-releases.yaml > proto-releases.yaml
npx flow proto upgrade .
\`\`\`

## Develop

\`\`\`sh
npm install       # @flow/sdk, the flow command, the build tools
npm run build     # flow proto vendor --check, buf generate, tsc
npm test
\`\`\`

## In a pipeline

[\`pipeline.yaml\`](pipeline.yaml) runs this ${input.family} with ${EXAMPLE_PARTNERS[input.family].map((partner) => `\`${partner}\``).join(" and ")} (dev
dependencies): \`use:\` finds this package from a pipeline in its folder, and other services wherever
they are installed in \`node_modules\`.

\`\`\`sh
npx flow run pipeline.yaml
\`\`\`

${configTable(input, n)}
`;
}
