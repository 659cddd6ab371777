/**
 * Whether `promise` settles before the event loop turns again: from what is at hand, with no I/O
 * (no answer from the network) in between. No timer: a check that something did NOT happen yet.
 */
export async function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const note = (): void => {
    settled = true;
  };
  promise.then(note, note);
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
