import { findWorkspaceRoot } from "@flow/core";
import { builtInConfigPath, loadConformConfig } from "./kit/conform-config";
import type { ConformContext } from "./kit/conform-context";
import { eventMajor } from "./kit/event-majors";
import { ALL_KIT_MAJORS, describe as describeService } from "./kit/family-clients";
import { openScenario, type Scenario } from "./kit/scenario";
import { type ServiceInstance, ServiceLauncher } from "./kit/service-launcher";
import { conformKeys, keyPatternFor, SourceReader } from "./kit/source-reader";

// The kit opens a source's Read stream, then starts the feed: the feed of built-in/source-file.json
// appends lines to the file the source reads, so whether they are there when the source reaches the
// end of the file is a race (a warm process, as at a second major or in a crash check, often wins
// it). With its built-in config the source must go on reading what is appended after it has read
// the file to its end, at every major, not end the stream there as exhausted.
const root = findWorkspaceRoot(__dirname) as string;
const PACKAGE = "@flow/source-file";
const WAIT_MS = 30_000;

jest.setTimeout(120_000);

describe.each(ALL_KIT_MAJORS.map((major) => ({ major })))(
  `${PACKAGE} with its built-in conformance config, at source_service v$major`,
  ({ major }) => {
    let scenario: Scenario | undefined;
    let instance: ServiceInstance | undefined;

    afterEach(async () => {
      await instance?.stop();
      await scenario?.close();
      instance = undefined;
      scenario = undefined;
    });

    it("reads the lines the feed appends after it has read the file to its end", async () => {
      const raw = loadConformConfig({ configPath: builtInConfigPath(PACKAGE) });
      const launcher = new ServiceLauncher({ kind: "use", packageName: PACKAGE }, root, WAIT_MS);
      scenario = await openScenario(raw, launcher.workDir);
      const started = await launcher.start(scenario.config.env);
      instance = started.instance;
      if (!instance) throw new Error(`${PACKAGE} did not start: ${started.problem}`);
      const feed = scenario.config.source.feed;
      if (!feed) throw new Error(`${raw.origin} has no source.feed`);
      const keys = conformKeys(scenario.placeholders.RUN, 10);
      const fed = (lines: string[]) =>
        (scenario as Scenario).shell(feed.command, `${lines.join("\n")}\n`).done;

      // Five lines before the stream starts, read in one batch below its size of 8: the source cut
      // it where the file ended.
      expect((await fed(keys.slice(0, 5))).code).toBe(0);
      const context = {
        family: "source",
        major,
        events: eventMajor(major),
        component: await describeService("source", instance.target, WAIT_MS, major),
        instance,
        config: scenario.config,
        timeoutMs: WAIT_MS,
      } satisfies ConformContext;
      const reader = new SourceReader(context, keyPatternFor(scenario.placeholders.RUN), {
        initialCredits: 2,
        maxBatchSize: 8,
        maxBatchBytes: 256 * 1024,
      });
      try {
        await reader.recorder.until(
          () => reader.distinctKeys().size >= 5 || reader.exhausted !== undefined,
          WAIT_MS,
        );
        expect(reader.distinctKeys().size).toBe(5);

        // The feed goes on after that: the source reads on.
        expect((await fed(keys.slice(5))).code).toBe(0);
        await reader.recorder.until(
          () => reader.distinctKeys().size >= keys.length || reader.exhausted !== undefined,
          WAIT_MS,
        );
        expect({ exhausted: reader.exhausted, ended: reader.recorder.ended }).toEqual({
          exhausted: undefined,
          ended: undefined,
        });
        expect([...reader.distinctKeys()].sort((a, b) => a - b)).toEqual(
          keys.map((_key, index) => index + 1),
        );
      } finally {
        await reader.recorder.finish(WAIT_MS);
      }
    });
  },
);
