import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, whatever logs them. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  '*.metricsToken',
  'secret',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  // Notification channels: robot URLs carry their access key, SMS templates often a gateway's, and signing secrets.
  'channel.url',
  'channel.secret',
  'channel.password',
  'channel.template',
  'notify.channels[*].url',
  'notify.channels[*].secret',
  'notify.channels[*].password',
  'notify.channels[*].template',
  // The whole configuration logged under a key of its own.
  '*.notify.channels[*].url',
  '*.notify.channels[*].secret',
  '*.notify.channels[*].password',
  '*.notify.channels[*].template',
];

export function createLogger(
  options: { level?: LevelWithSilent; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name: options.name ?? 'shouwang',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
