import pino from "pino";

/** Logs go to stderr: stdout carries only the handshake line, which Core reads. */
export function serviceLogger(name: string): pino.Logger {
  return pino({ name, level: process.env.FLOW_LOG_LEVEL ?? "info" }, pino.destination(2));
}

/**
 * Warnings of a service's own machinery (e.g. a peer of the direct data path it gave up on), on the
 * service's logger, made the first time one is warned of.
 */
export function serviceWarnings(name: string): (message: string, context?: object) => void {
  let logger: pino.Logger | undefined;
  return (message, context = {}) => {
    logger ??= serviceLogger(name);
    logger.warn(context, message);
  };
}
