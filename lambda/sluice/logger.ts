import { Logger } from '@aws-lambda-powertools/logger';
import type { SluiceLogLevel } from './core/settings';
import type { SluiceLogger } from './ops/context';

/** Powertools JSON logs, service `sluice`; the message is the event name (SluiceLogEvent), fields snake_case. */
export function createSluiceLogger(logLevel: SluiceLogLevel): SluiceLogger {
  return new Logger({ serviceName: 'sluice', logLevel });
}
