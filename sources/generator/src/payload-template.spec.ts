import { PayloadTemplate, TextTemplate } from "./payload-template";

const values = { seq: 42n, id: 'st"age-42', stage: 'st"age', time: "2026-01-02T03:04:05.000000000Z" };

describe("PayloadTemplate", () => {
  it('turns a whole "{{seq}}" string into a number and escapes text placeholders inside strings', () => {
    const template = new PayloadTemplate({
      seq: "{{seq}}",
      label: "n={{seq}}",
      id: "{{id}}",
      at: "{{time}}",
      list: ["{{stage}}"],
    });
    expect(JSON.parse(template.render(values).toString())).toEqual({
      seq: 42,
      label: "n=42",
      id: 'st"age-42',
      at: "2026-01-02T03:04:05.000000000Z",
      list: ['st"age'],
    });
  });

  it("pads an object payload to exactly the requested number of UTF-8 bytes", () => {
    for (const template of [{}, { seq: "{{seq}}" }, { name: "é" }]) {
      const rendered = new PayloadTemplate(template, 64).render(values);
      expect(rendered.length).toBe(64);
      expect(JSON.parse(rendered.toString()).pad).toMatch(/^x*$/);
    }
  });

  it("lists the placeholders it holds, so the generator computes only those", () => {
    expect([...new PayloadTemplate({ seq: "{{seq}}", at: "t={{time}}" }).uses].sort()).toEqual([
      "seq",
      "time",
    ]);
    expect([...new PayloadTemplate({ fixed: true }, 100).uses]).toEqual([]);
    expect([...new TextTemplate("{{stage}}/{{id}}").uses].sort()).toEqual(["id", "stage"]);
  });

  it("never truncates a payload larger than the requested size", () => {
    const rendered = new PayloadTemplate({ text: "a".repeat(100) }, 10).render(values);
    expect(JSON.parse(rendered.toString())).toEqual({ text: "a".repeat(100) });
  });
});

describe("TextTemplate", () => {
  it("replaces placeholders verbatim", () => {
    expect(new TextTemplate('order-{{seq}} of "{{stage}}"').render(values)).toBe('order-42 of "st"age"');
  });
});
