import type { StackConfig } from '../../lib/config';
import type { Profile } from '../cli/options';

/** A message as the producer helper takes it (the producer contract, lambda/producer). */
export type DemoMessage = Record<string, unknown> & { readonly id: string };

/** Every how many messages one is invalid on purpose, to show the DLQ with a reason. */
const INVALID_EVERY = 20;
/** Locations the waitwhile workload spreads over: 1 write/s each, 5 requests/s in all. */
const LOCATIONS = 6;

/**
 * The demo workload of `npm start`: `count` messages for the profile's vendor from the
 * configured products in turn, ids `demo-0001` …, a few invalid on purpose (unknown operation, a path outside the
 * allow-list, a missing parameter); for openai some need many tokens. Deterministic, so two
 * runs are comparable.
 */
export function demoWorkload(profile: Profile, count: number, config: StackConfig): DemoMessage[] {
  const operation = Object.keys(config.vendor.operations)[0] ?? 'call';
  return Array.from({ length: count }, (_, index) => {
    const id = `demo-${String(index + 1).padStart(4, '0')}`;
    return withProduct(demoMessage(profile, id, index, operation), index, config.products);
  });
}

function demoMessage(profile: Profile, id: string, index: number, operation: string): DemoMessage {
  if ((index + 1) % INVALID_EVERY === 0) return invalidMessage(id, index / INVALID_EVERY);
  if (profile === 'openai') return chatCompletion(id, index, operation);
  if (profile === 'sweeppea') return createContact(id, index, operation);
  return createVisit(id, index, operation);
}

/**
 * The configured products take turns sending (checkout, support, checkout, ...), each getting
 * its outcomes on its own queue; an invalid message names its product too, so its dead letter
 * reaches it.
 */
function withProduct(message: DemoMessage, index: number, products: readonly string[]): DemoMessage {
  const product = products[index % Math.max(1, products.length)];
  return product === undefined ? message : { ...message, product };
}

function createVisit(id: string, index: number, operation: string): DemoMessage {
  const locationId = `loc-${(index % LOCATIONS) + 1}`;
  return {
    id,
    operation,
    params: { locationId },
    body: { name: `Guest ${index + 1}`, partySize: (index % 4) + 1 },
  };
}

function chatCompletion(id: string, index: number, operation: string): DemoMessage {
  // One in eight asks for a long answer: a big token estimate that waits for the tpm bucket.
  const maxTokens = index % 8 === 7 ? 2_000 : 150 + (index % 5) * 50;
  return {
    id,
    operation,
    // The prompt is a few tokens; the answer at most max_tokens. Settling refunds the rest.
    tokenEstimate: maxTokens + 10,
    body: {
      model: 'gpt-4o-mini',
      max_tokens: maxTokens,
      messages: [{ role: 'user', content: `Summarise ticket #${index + 1}` }],
    },
  };
}

function createContact(id: string, index: number, operation: string): DemoMessage {
  return {
    id,
    operation,
    body: { email: `contact-${index + 1}@example.com`, firstName: `Contact ${index + 1}` },
  };
}

/** Three kinds of invalid message, in turn: each must reach the DLQ with a reason, never the vendor. */
function invalidMessage(id: string, which: number): DemoMessage {
  const kinds: DemoMessage[] = [
    { id, operation: 'noSuchOperation', body: {} },
    { id, method: 'POST', path: '/admin/delete-everything', body: {} },
    { id, operation: 42 },
  ];
  return kinds[Math.floor(which) % kinds.length] ?? { id };
}
