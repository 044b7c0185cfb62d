import { idempotencyId, LogEvent, Metric, MetricDimension, type MetricName } from '../contract';
import type { CompletedOutcome, DeadLetteredOutcome } from '../producer/outcome';
import type { OutcomeTopic } from './aws';
import { type BodyStore, claimCheck } from './claim-check';

/** What the publisher reports (the worker's telemetry fits): counts by product and class, and log events. */
export interface OutcomeTelemetry {
  count(
    metric: MetricName,
    value?: number,
    dimension?:
      | { readonly name: string; readonly value: string }
      | readonly { readonly name: string; readonly value: string }[],
  ): void;
  info(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Where outcomes go: the topic, and the bucket for bodies too large for it. */
export interface OutcomeChannel {
  readonly topic: OutcomeTopic;
  readonly bodies?: BodyStore;
}

/** A message's final outcome as its idempotency record keeps it. */
export interface StoredOutcomeEvent {
  readonly json: string;
  readonly published: boolean;
}

/** The part of the idempotency store that keeps outcomes (lambda/idempotency/store.ts). */
export interface OutcomeLedger {
  complete(messageId: string, nowMs: number, outcomeJson?: string): Promise<void>;
  deadLettered(
    messageId: string,
    nowMs: number,
    outcomeJson: string,
  ): Promise<StoredOutcomeEvent | undefined>;
  markPublished(messageId: string): Promise<void>;
}

/**
 * One final outcome per message id, published at least once: the event is stored in the id's
 * idempotency record first (its body claim-checked to S3 when large), then published (a dead
 * letter's, or a repeat's, then marked published; a completion's first publish is not marked,
 * see `publishCompleted`). A publish that fails throws: the message is delivered again, finds the
 * stored event and publishes it, with no second vendor call. A dead letter never replaces a
 * completion: the completion's event is the one published.
 */
export class OutcomePublisher {
  constructor(
    private readonly ledger: OutcomeLedger,
    private readonly telemetry: OutcomeTelemetry,
    private readonly channel?: OutcomeChannel,
  ) {}

  /** Whether outcomes are published at all (a stack with no products publishes none). */
  get enabled(): boolean {
    return this.channel !== undefined;
  }

  /**
   * The vendor answered 2xx: stores the completion with its event (the body claim-checked
   * first when large). From here the message is completed whatever happens to the publish.
   * Returns the stored event to hand to `publishCompleted`.
   */
  async storeCompleted(
    outcome: CompletedOutcome | undefined,
    messageId: string,
    nowMs: number,
  ): Promise<string | undefined> {
    if (!this.channel || outcome === undefined) {
      await this.ledger.complete(messageId, nowMs);
      return undefined;
    }
    // A claim check that fails throws before anything is stored: see docs/worker.md, "Outcomes".
    const { json, claimChecked } = await this.guard(outcome.id, 'claim_check', () =>
      claimCheck(outcome, this.channel?.bodies),
    );
    if (claimChecked) this.telemetry.count(Metric.outcomeBodiesClaimChecked);
    await this.ledger.complete(messageId, nowMs, json);
    return json;
  }

  /**
   * Publishes a stored completion; throws when the publish fails (the next delivery retries it).
   * Not marked published: the mark would cost a write on every message (as much as the claim)
   * to spare the rare later delivery of the same id (a producer's retry, an SQS duplicate) one
   * publish. That delivery finds the id completed, publishes the stored event once more and
   * marks it then; outcomes are delivered at least once in any case (SNS and SQS repeat too).
   */
  async publishCompleted(messageId: string, json: string | undefined): Promise<void> {
    if (json !== undefined) await this.publish(messageId, json, { mark: false });
  }

  /** The message was dead-lettered: store its event unless the id completed, then publish the final one. */
  async deadLettered(outcome: DeadLetteredOutcome, nowMs: number): Promise<void> {
    if (!this.channel) return;
    const ledgerId = idempotencyId(outcome.product, outcome.id);
    const stored = await this.ledger.deadLettered(ledgerId, nowMs, JSON.stringify(outcome));
    if (stored && !stored.published) await this.publish(ledgerId, stored.json);
  }

  /** A delivery of an id that already ended: publish its stored event if that has not happened yet. */
  async republish(messageId: string, stored: StoredOutcomeEvent | undefined): Promise<boolean> {
    if (!this.channel || !stored || stored.published) return false;
    await this.publish(messageId, stored.json);
    return true;
  }

  private async publish(messageId: string, json: string, { mark = true } = {}): Promise<void> {
    const { product, outcome } = JSON.parse(json) as { product: string; outcome: string };
    const topic = this.channel?.topic;
    if (!topic) return;
    await this.guard(messageId, 'publish', () => topic.publish(json, product, outcome));
    this.telemetry.count(Metric.outcomesPublished, 1, [
      { name: MetricDimension.product, value: product },
      { name: MetricDimension.outcomeClass, value: outcome },
    ]);
    this.telemetry.info(LogEvent.outcomePublished, { id: messageId, product, outcome });
    if (mark) await this.ledger.markPublished(messageId);
  }

  private async guard<T>(messageId: string, step: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      this.telemetry.count(Metric.outcomePublishFailures);
      this.telemetry.error(LogEvent.outcomePublishFailed, {
        id: messageId,
        step,
        error: (error as Error).message,
      });
      throw error;
    }
  }
}
