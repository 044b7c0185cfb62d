import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SluiceError } from '../sluice';

/**
 * The vendor API key from AWS Secrets Manager (never a plain environment variable), cached
 * per Lambda environment and re-read on demand after a 401 (a rotated key). The key never
 * appears in an error message or a log line.
 */

/** The one call this provider makes; a SecretsManagerClient fits. */
export interface SecretValueReader {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

export interface SecretApiKeyProviderOptions {
  readonly secretsManager: SecretValueReader;
  /** Name or ARN of the secret. */
  readonly secretId: string;
  readonly clock?: () => number;
  /** Re-read the secret after this long even without a 401, so a rotation is picked up. @default 300_000 (5 min) */
  readonly maxAgeMs?: number;
}

/**
 * The secret holds no usable API key. No `cause` on purpose: a parser's message could quote
 * the secret's value, and these messages name the secret only.
 */
export class SecretKeyError extends SluiceError {
  override readonly name: string = 'SecretKeyError';
}

export class SecretApiKeyProvider {
  private cached?: { readonly key: string; readonly readAtMs: number };
  private inFlight?: Promise<string>;
  private readonly clock: () => number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: SecretApiKeyProviderOptions) {
    this.clock = options.clock ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
  }

  /** The cached key while fresh; otherwise one read shared by every concurrent caller. */
  get(): Promise<string> {
    if (this.cached && this.clock() - this.cached.readAtMs < this.maxAgeMs) {
      return Promise.resolve(this.cached.key);
    }
    return this.read();
  }

  /** Forgets the cached key and reads the secret again (after a 401). */
  refresh(): Promise<string> {
    this.cached = undefined;
    return this.read();
  }

  private read(): Promise<string> {
    if (!this.inFlight) {
      this.inFlight = this.fetchKey().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  private async fetchKey(): Promise<string> {
    const { secretId } = this.options;
    const output = await this.options.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    const key = extractKey(output.SecretString, secretId);
    this.cached = { key, readAtMs: this.clock() };
    return key;
  }
}

/** The secret string is the key itself, or JSON `{"apiKey": "..."}`. Messages name the secret, never its value. */
function extractKey(secretString: string | undefined, secretId: string): string {
  if (secretString === undefined) {
    throw new SecretKeyError(`secret "${secretId}" has no SecretString (a binary secret is not supported)`);
  }
  const text = secretString.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SecretKeyError(`secret "${secretId}" starts with { but is not valid JSON`);
    }
    const apiKey = (parsed as { apiKey?: unknown }).apiKey;
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new SecretKeyError(`secret "${secretId}" is JSON without a non-empty string field "apiKey"`);
    }
    return apiKey.trim();
  }
  if (text === '') throw new SecretKeyError(`secret "${secretId}" is empty`);
  return text;
}
