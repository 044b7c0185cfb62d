import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SluiceClient, SluiceConfig } from 'sluice-aws';
import { readSyncCallSettings } from './settings';

/** The vendor limit this call spends, as the Sluice stack's configuration names it. */
export const RPS_DIMENSION = 'waitwhile#rps';

export interface SyncCallEvent {
  readonly locationId: string;
}

export interface SyncCallResult {
  /** The vendor's HTTP status. */
  readonly status: number;
  readonly body?: unknown;
}

export interface SyncCallDependencies {
  /** What the call needs of the SDK: a slot, and a penalty after a 429. */
  readonly sluice: Pick<SluiceClient, 'slot' | 'penalize'>;
  readonly baseUrl: string;
  readonly apiKey: () => Promise<string>;
  /** The label every acquire carries (logs and metrics by product). */
  readonly product: string;
  /** How long to wait for capacity before giving up. @default 10 */
  readonly slotTimeoutSeconds?: number;
  readonly fetch?: typeof fetch;
}

/**
 * A synchronous vendor call from a product's own Lambda: wait in line for the shared
 * `waitwhile#rps` bucket (`slot`), call the vendor, and release. A 429 anyway means the
 * vendor saw more than Sluice granted (another client outside Sluice): penalize, so every
 * caller of the bucket backs off at once.
 */
export function createSyncCall(
  deps: SyncCallDependencies,
): (event: SyncCallEvent) => Promise<SyncCallResult> {
  const call = deps.fetch ?? fetch;
  return async (event) => {
    const slot = await deps.sluice.slot(RPS_DIMENSION, {
      product: deps.product,
      timeoutSeconds: deps.slotTimeoutSeconds ?? 10,
    });
    try {
      const response = await call(`${deps.baseUrl}/locations/${encodeURIComponent(event.locationId)}`, {
        headers: { authorization: `Bearer ${await deps.apiKey()}` },
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status === 429) await deps.sluice.penalize(RPS_DIMENSION);
      const text = await response.text();
      return { status: response.status, ...(text ? { body: JSON.parse(text) as unknown } : {}) };
    } finally {
      await slot.release();
    }
  };
}

/** The SDK client from the SLUICE_* variables the stack sets (SLUICE_TABLE_NAME above all). */
export function sluiceFromEnv(env: NodeJS.ProcessEnv = process.env): SluiceClient {
  return new SluiceClient({ settings: SluiceConfig.fromEnv({}, env) });
}

let wired: ((event: SyncCallEvent) => Promise<SyncCallResult>) | undefined;

/** The Lambda handler: configuration and clients once per environment, the key from Secrets Manager. */
export async function handler(event: SyncCallEvent): Promise<SyncCallResult> {
  if (!wired) {
    const settings = readSyncCallSettings();
    const secrets = new SecretsManagerClient({});
    let key: Promise<string> | undefined;
    wired = createSyncCall({
      sluice: sluiceFromEnv(),
      baseUrl: settings.VENDOR_BASE_URL,
      product: settings.SLUICE_PRODUCT,
      apiKey: () => {
        key ??= secrets
          .send(new GetSecretValueCommand({ SecretId: settings.VENDOR_SECRET_ARN }))
          .then((secret) => secret.SecretString ?? '');
        return key;
      },
    });
  }
  return wired(event);
}
