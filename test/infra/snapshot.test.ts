import { synthStack } from './synth';

/** Asset hashes change with every handler edit; the snapshot is about the infrastructure. */
function withoutAssetHashes(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip)?/g, '[asset]'));
}

describe('the synthesised template', () => {
  // The invariants are asserted one by one in stack*.test.ts; this catches what they miss.
  it('matches the reviewed snapshot', () => {
    const { template } = synthStack({ stage: 'prod', alarmEmail: 'ops@example.com' });
    expect(withoutAssetHashes(template.toJSON())).toMatchSnapshot();
  });
});
