import type { ConformContext } from "../conform-context";
import { contractHasDirectPath, directPathNotChecked } from "./direct-path-checks";

it("finds the direct data path in each family contract's v2 descriptors, and none at v1", () => {
  for (const family of ["source", "processor", "consumer"] as const) {
    expect([family, contractHasDirectPath(family, 1)]).toEqual([family, false]);
    expect([family, contractHasDirectPath(family, 2)]).toEqual([family, true]);
  }
});

it("runs the checks where Describe says direct_path, says in one line they do not apply where not, and says nothing at v1", () => {
  const at = (major: number, directPath: boolean) =>
    directPathNotChecked({
      family: "consumer",
      major,
      component: { features: { directPath } },
    } as ConformContext);
  expect(at(2, true)).toBeUndefined();
  expect(at(2, false)).toEqual([
    {
      id: "direct",
      status: "skip",
      why: "Describe at consumer_service v2 does not say features.direct_path: the direct data path checks do not apply",
      fix: "",
    },
  ]);
  expect(at(1, false)).toEqual([]);
  expect(at(1, true)).toEqual([]);
});
