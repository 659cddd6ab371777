import { getEventListeners } from "node:events";
import { unlessAborted } from "./unless-aborted";

describe("unlessAborted", () => {
  it("passes a value or a rejection through, and leaves no listener on the signal", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) await unlessAborted(Promise.resolve(i), controller.signal);
    await expect(unlessAborted(Promise.resolve("value"), controller.signal)).resolves.toBe("value");
    await expect(unlessAborted(Promise.reject(new Error("no")), controller.signal)).rejects.toThrow("no");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("gives undefined as soon as the signal aborts, without waiting for the promise", async () => {
    const controller = new AbortController();
    let fail: (error: Error) => void = () => undefined;
    const never = new Promise<string>((_, reject) => (fail = reject));
    const raced = unlessAborted(never, controller.signal);
    controller.abort();
    await expect(raced).resolves.toBeUndefined();
    // A late failure of the abandoned promise is not an unhandled rejection.
    fail(new Error("late"));
    await expect(unlessAborted(never, controller.signal)).resolves.toBeUndefined();
  });
});
