import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SecretApiKeyProvider, type SecretValueReader } from '../../lambda/vendor-api/secret';

/**
 * No local Secrets Manager server exists on this machine, so the one call the provider makes
 * is answered by a fake `send`: an availability boundary, not a mock of the provider's logic.
 */
function fakeSecretsManager(values: Array<string | undefined>) {
  const requested: string[] = [];
  const reader: SecretValueReader = {
    send: async (command: GetSecretValueCommand) => {
      requested.push(command.input.SecretId ?? '');
      return { SecretString: values.shift() };
    },
  };
  return { reader, requested };
}

describe('SecretApiKeyProvider', () => {
  it('reads the secret once and serves the cached key while it is fresh', async () => {
    let nowMs = 0;
    const { reader, requested } = fakeSecretsManager(['key-1', 'key-2']);
    const provider = new SecretApiKeyProvider({
      secretsManager: reader,
      secretId: 'sluice/key',
      clock: () => nowMs,
      maxAgeMs: 1_000,
    });
    const keys = [await provider.get(), await provider.get()];
    nowMs = 1_000;
    keys.push(await provider.get());
    expect([keys, requested]).toEqual([
      ['key-1', 'key-1', 'key-2'],
      ['sluice/key', 'sluice/key'],
    ]);
  });

  it('shares one read between concurrent callers', async () => {
    const { reader, requested } = fakeSecretsManager(['key-1']);
    const provider = new SecretApiKeyProvider({ secretsManager: reader, secretId: 'sluice/key' });
    expect(await Promise.all([provider.get(), provider.get(), provider.get()])).toEqual([
      'key-1',
      'key-1',
      'key-1',
    ]);
    expect(requested).toHaveLength(1);
  });

  it('reads the secret again on refresh, after a 401', async () => {
    const { reader } = fakeSecretsManager(['old-key', 'rotated-key']);
    const provider = new SecretApiKeyProvider({ secretsManager: reader, secretId: 'sluice/key' });
    expect([await provider.get(), await provider.refresh(), await provider.get()]).toEqual([
      'old-key',
      'rotated-key',
      'rotated-key',
    ]);
  });

  it('takes the key from JSON {"apiKey": ...}', async () => {
    const { reader } = fakeSecretsManager(['{"apiKey": " sk-123 "}']);
    const provider = new SecretApiKeyProvider({ secretsManager: reader, secretId: 'sluice/key' });
    expect(await provider.get()).toBe('sk-123');
  });

  it('names the secret and the rule, never the value, when the secret is unusable', async () => {
    const cases = [undefined, '{"token": "sk-secret-value"}', '{sk-secret-value', '   '];
    const messages = await Promise.all(
      cases.map((value) =>
        new SecretApiKeyProvider({
          secretsManager: fakeSecretsManager([value]).reader,
          secretId: 'sluice/key',
        })
          .get()
          .then(
            () => 'resolved',
            (error: Error) => `${error.name}: ${error.message}`,
          ),
      ),
    );
    expect(messages).toEqual([
      'SecretKeyError: secret "sluice/key" has no SecretString (a binary secret is not supported)',
      'SecretKeyError: secret "sluice/key" is JSON without a non-empty string field "apiKey"',
      'SecretKeyError: secret "sluice/key" starts with { but is not valid JSON',
      'SecretKeyError: secret "sluice/key" is empty',
    ]);
  });
});
