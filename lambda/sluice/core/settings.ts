/** The SDK's settings, as `SluiceConfig.fromEnv` reads them (config.ts) or a caller gives them. */

export type SluiceLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface SluiceSettings {
  readonly tableName: string;
  readonly region?: string;
  /** DynamoDB endpoint (DynamoDB Local); omitted in AWS. */
  readonly endpointUrl?: string;
  /** @default 60 */
  readonly leaseTtlSeconds: number;
  /** Version-conflict retries of one acquire. @default 3 */
  readonly maxRetries: number;
  /** @default 30 */
  readonly defaultSlotTimeoutSeconds: number;
  /** @default 5 */
  readonly inlineRetryThresholdSeconds: number;
  /** @default 'INFO' */
  readonly logLevel: SluiceLogLevel;
}
