import { type InboxReader, type PeerInbox, REF_MISSING } from "./peer-inbox";

/**
 * Whether a family implementation takes part in the direct data path, where adjacent stages hand
 * each other batches and Core sees only references (ServeOptions.directPath).
 */
export interface DirectPathOption {
  /**
   * false: Describe says `features.direct_path: false`, Ingest is not served and the peers a
   * stream start names are ignored (every batch goes through Core). Default: on wherever the
   * contract has it (major 2; major 1 never does).
   */
  directPath?: boolean;
}

/** Whether a stream served at `major` takes part in the direct data path. */
export function directPathOn(major: number, option: DirectPathOption = {}): boolean {
  return major >= 2 && option.directPath !== false;
}

/** For a service whose direct data path is off: no reference it is sent was ever pushed to it. */
const NOTHING_PUSHED: InboxReader = { take: () => Promise.resolve(REF_MISSING), close: () => undefined };

/** The inbox a Process or Write stream takes its references from (see PeerInbox.openReader). */
export function inboxReader(inbox: PeerInbox, on: boolean): InboxReader {
  return on ? inbox.openReader() : NOTHING_PUSHED;
}
