import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createEvent, timestampFromRfc3339 } from "@flow/sdk";
import { mustCompile } from "./compile-expression";
import { eventView } from "./event-view";

// The README is where pipeline authors learn the language; its input and examples must stay true.
const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
const documentedInput = JSON.parse(/```json\n([\s\S]*?)```/.exec(readme)?.[1] ?? "null");
const examples = [...readme.matchAll(/^\| `(.+?)` +\| `(.+?)` +\|$/gm)].map(([, text, result]) => ({
  text: text as string,
  result: JSON.parse(result as string) as unknown,
}));

const event = createEvent({
  id: documentedInput.id,
  source: documentedInput.source,
  type: documentedInput.type,
  subject: documentedInput.subject,
  time: timestampFromRfc3339(documentedInput.time),
  dataschema: documentedInput.dataschema,
  extensions: { tenant: { value: { $case: "stringValue", value: documentedInput.extensions.tenant } } },
  data: documentedInput.data,
});

it("shows in its README what an expression sees of an event", () => {
  expect(JSON.parse(JSON.stringify(eventView(event)))).toEqual(documentedInput);
});

it("gives in its README what each example really evaluates to", async () => {
  expect(examples.length).toBeGreaterThanOrEqual(5);
  for (const { text, result } of examples) {
    const value = await mustCompile(text, "/expression", { timeoutMs: 1000 }).evaluate(eventView(event));
    expect({ text, value: JSON.parse(JSON.stringify(value)) }).toEqual({ text, value: result });
  }
});
