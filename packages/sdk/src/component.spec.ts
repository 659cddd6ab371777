import { FAMILY, FAMILY_NAMES, familyNameOf } from "./component";
import { Family } from "./gen/component/v1/component";

describe("the family mapping", () => {
  it("matches the generated component.v1 Family enum, both ways", () => {
    expect(FAMILY_NAMES).toEqual(["source", "processor", "consumer"]);
    for (const name of FAMILY_NAMES) {
      const generated = Family[`FAMILY_${name.toUpperCase()}` as keyof typeof Family];
      expect(FAMILY[name]).toBe(generated);
      expect(familyNameOf(generated)).toBe(name);
      expect(familyNameOf(`FAMILY_${name.toUpperCase()}`)).toBe(name);
    }
  });

  it("names no family for FAMILY_UNSPECIFIED or a value it does not know", () => {
    expect(familyNameOf(Family.FAMILY_UNSPECIFIED)).toBeUndefined();
    expect(familyNameOf("FAMILY_UNSPECIFIED")).toBeUndefined();
    expect(familyNameOf(7)).toBeUndefined();
  });
});
