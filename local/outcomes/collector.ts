import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OutcomeTopic } from '../../lambda/outcomes/aws';
import type { OutcomeEvent } from '../../lambda/producer/outcome';
import { type OutcomeTopology, receiveOutcomes } from './topology';

/** The `outcomes` block of the `--report` JSON. */
export interface OutcomesReport {
  /** Events the worker and the relay published (a republish after a failure counts again). */
  readonly published: number;
  /** Ids whose outcome reached their product's queue. */
  readonly received: number;
  /** Ids that should have had an outcome (they named a configured product) and got none. */
  readonly missing: number;
  /** Completed outcomes whose body was claim-checked to S3. */
  readonly claimChecked: number;
  readonly byProduct: Record<string, { completed: number; deadLettered: number }>;
}

/** The report block and what the run's checks need besides it. */
export interface OutcomesFindings {
  readonly outcomes: OutcomesReport;
  /** The missing ids. */
  readonly missingIds: string[];
  /** Ids received with two different final outcomes, or on another product's queue. */
  readonly conflicts: string[];
}

/**
 * What each product's queue received in a local run, read as a product would (its own queue,
 * raw delivery). Counts one final outcome per id; an id delivered twice with the same outcome
 * is the at-least-once contract, with two different outcomes a failure.
 */
export class OutcomeCollector {
  private publishedCount = 0;
  private readonly received = new Map<string, { product: string; outcome: OutcomeEvent['outcome'] }>();
  private readonly claimCheckedIds = new Set<string>();
  private readonly conflicting = new Set<string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly topology: OutcomeTopology,
  ) {}

  /** The topic as the worker sees it, counting what it publishes. */
  counting(topic: OutcomeTopic): OutcomeTopic {
    return {
      publish: async (json, product, outcome) => {
        await topic.publish(json, product, outcome);
        this.publishedCount += 1;
      },
    };
  }

  /** Reads every product queue until each receive comes back empty. */
  async collect(): Promise<void> {
    for (const [product, queueUrl] of Object.entries(this.topology.queues)) {
      for (;;) {
        const batch = await receiveOutcomes(this.sqs, queueUrl);
        if (batch.length === 0) break;
        for (const event of batch) this.record(product, event);
      }
    }
  }

  /** The ids of `expected` with no outcome yet. */
  missing(expected: readonly string[]): string[] {
    return expected.filter((id) => !this.received.has(id));
  }

  report(expected: readonly string[]): OutcomesFindings {
    const byProduct: OutcomesReport['byProduct'] = {};
    for (const product of Object.keys(this.topology.queues))
      byProduct[product] = { completed: 0, deadLettered: 0 };
    for (const { product, outcome } of this.received.values()) {
      const counts = byProduct[product];
      if (!counts) continue;
      if (outcome === 'completed') counts.completed += 1;
      else counts.deadLettered += 1;
    }
    const missing = this.missing(expected);
    return {
      outcomes: {
        published: this.publishedCount,
        received: this.received.size,
        missing: missing.length,
        claimChecked: this.claimCheckedIds.size,
        byProduct,
      },
      missingIds: missing,
      conflicts: [...this.conflicting],
    };
  }

  /** The final outcome received for an id, if any. */
  outcomeOf(id: string): OutcomeEvent['outcome'] | undefined {
    return this.received.get(id)?.outcome;
  }

  private record(queueProduct: string, event: OutcomeEvent): void {
    if (event.product !== queueProduct) this.conflicting.add(event.id);
    const earlier = this.received.get(event.id);
    if (earlier && earlier.outcome !== event.outcome) this.conflicting.add(event.id);
    if (!earlier) this.received.set(event.id, { product: event.product, outcome: event.outcome });
    if (event.outcome === 'completed' && event.bodyRef) this.claimCheckedIds.add(event.id);
  }
}

/**
 * `--chaos`: the first publish of a completed outcome fails, after the vendor's 2xx. The
 * message is delivered again, finds its stored outcome and publishes it without calling the
 * vendor (the report's duplicate-success check would catch a second call).
 */
export function failFirstCompletedPublish(topic: OutcomeTopic, onInjected: () => void): OutcomeTopic {
  let injected = false;
  return {
    publish: (json, product, outcome) => {
      if (!injected && outcome === 'completed') {
        injected = true;
        onInjected();
        return Promise.reject(new Error('chaos: the outcome topic refused the publish'));
      }
      return topic.publish(json, product, outcome);
    },
  };
}

/**
 * Reads the product queues until every expected id has its outcome, or nothing new arrived for
 * `patienceMs` (a state, checked every `everyMs`): the run then says which ids are missing.
 */
export async function awaitOutcomes(options: {
  readonly collector: OutcomeCollector;
  readonly expected: readonly string[];
  readonly patienceMs?: number;
  readonly everyMs?: number;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}): Promise<void> {
  const now = options.now ?? Date.now;
  const patienceMs = options.patienceMs ?? 15_000;
  let missing = options.collector.missing(options.expected).length;
  let progressAt = now();
  for (;;) {
    await options.collector.collect();
    const left = options.collector.missing(options.expected).length;
    if (left === 0 || options.signal?.aborted) return;
    if (left < missing) {
      missing = left;
      progressAt = now();
    } else if (now() - progressAt > patienceMs) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 200));
  }
}
