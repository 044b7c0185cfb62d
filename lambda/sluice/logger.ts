import { Logger } from '@aws-lambda-powertools/logger';
import type { SluiceLogLevel } from './config';

/** What the SDK needs of a logger; Powertools' `Logger` fits, and tests can record events. */
export type SluiceLogFields = { [key: string]: unknown };

export interface SluiceLogger {
  debug(message: string, fields: SluiceLogFields): void;
  info(message: string, fields: SluiceLogFields): void;
  warn(message: string, fields: SluiceLogFields): void;
  error(message: string, fields: SluiceLogFields): void;
}

/** Powertools JSON logs, service `sluice`; the message is the event name (LogEvent), fields snake_case. */
export function createSluiceLogger(logLevel: SluiceLogLevel): SluiceLogger {
  return new Logger({ serviceName: 'sluice', logLevel });
}
