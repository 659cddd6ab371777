import { type ConnectionOptions, connect, type NatsConnection } from "nats";

export interface NatsConnectionSettings {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
}

/**
 * A connection that keeps reconnecting for as long as it is open (the client's default gives up
 * after 10 attempts), so a broker that comes back finds the stream again without a restart.
 */
export function connectNats(
  settings: NatsConnectionSettings,
  name: string,
  extra: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  return connect({
    servers: settings.servers,
    name,
    ...(settings.user !== undefined ? { user: settings.user, pass: settings.password } : {}),
    ...(settings.token !== undefined ? { token: settings.token } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...extra,
  });
}

/** Whether `subject` (which may hold wildcards) is inside what `pattern` matches. */
export function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let index = 0; index < p.length; index++) {
    if (p[index] === ">") return s.length > index;
    if (index >= s.length) return false;
    if (s[index] === ">") return false;
    if (p[index] !== "*" && p[index] !== s[index]) return false;
  }
  return p.length === s.length;
}
