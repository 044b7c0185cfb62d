import { randomUUID } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { QueueSend } from '../../lambda/worker/adapters/queues';

interface Held {
  readonly messageId: string;
  readonly send: QueueSend;
  readonly senderId: string;
  readonly sentAtMs: number;
  visibleAtMs: number;
  receives: number;
  firstReceivedAtMs?: number;
  receipt?: string;
}

/**
 * A standard SQS queue in memory, on the harness's clock, for the worker's unit tests: a send
 * is visible after its DelaySeconds; a receive hides a message for the visibility timeout and
 * counts the receive; a message received `maxReceiveCount` times moves to the redrive target on
 * the next receive, as SQS does; receive attributes are the ones the worker reads (receive
 * count, sent time, SenderId). Order is by visibility, then by send: no fair-queue reordering.
 */
export class MemoryQueue {
  private readonly messages: Held[] = [];

  constructor(
    private readonly clock: () => number,
    private readonly redrive?: { readonly target: MemoryQueue; readonly maxReceiveCount: number },
  ) {}

  send(send: QueueSend, senderId: string): string {
    const messageId = randomUUID();
    const nowMs = this.clock();
    this.messages.push({
      messageId,
      send,
      senderId,
      sentAtMs: nowMs,
      visibleAtMs: nowMs + (send.DelaySeconds ?? 0) * 1000,
      receives: 0,
    });
    return messageId;
  }

  receive(max: number, visibilityTimeoutSeconds: number): Message[] {
    const nowMs = this.clock();
    const received: Message[] = [];
    for (const held of [...this.messages].sort((a, b) => a.visibleAtMs - b.visibleAtMs)) {
      if (received.length === max) break;
      if (held.visibleAtMs > nowMs) continue;
      if (this.redrive && held.receives >= this.redrive.maxReceiveCount) {
        this.remove(held);
        this.redrive.target.messages.push({ ...held, visibleAtMs: nowMs, receives: 0 });
        continue;
      }
      held.receives += 1;
      held.firstReceivedAtMs ??= nowMs;
      held.visibleAtMs = nowMs + visibilityTimeoutSeconds * 1000;
      held.receipt = `${held.messageId}#${held.receives}`;
      received.push(asMessage(held));
    }
    return received;
  }

  delete(receipt: string): void {
    const held = this.messages.find((each) => each.receipt === receipt);
    if (held) this.remove(held);
  }

  /** ChangeMessageVisibility to 0: the received message is visible again at once. */
  release(receipt: string): void {
    const held = this.messages.find((each) => each.receipt === receipt);
    if (held) held.visibleAtMs = this.clock();
  }

  depth(): { visible: number; delayed: number; inFlight: number } {
    const nowMs = this.clock();
    const visible = this.messages.filter((each) => each.visibleAtMs <= nowMs).length;
    const delayed = this.messages.filter((each) => each.visibleAtMs > nowMs && each.receives === 0).length;
    return { visible, delayed, inFlight: this.messages.length - visible - delayed };
  }

  /** When the next hidden message becomes visible (a delay ending, a visibility timeout). */
  nextVisibleAtMs(): number | undefined {
    const nowMs = this.clock();
    const hidden = this.messages.filter((each) => each.visibleAtMs > nowMs).map((each) => each.visibleAtMs);
    return hidden.length === 0 ? undefined : Math.min(...hidden);
  }

  /** Receives and deletes everything visible: a consumer draining the queue. */
  drain(): Message[] {
    const all: Message[] = [];
    for (;;) {
      const batch = this.receive(10, 60);
      if (batch.length === 0) return all;
      for (const message of batch) this.delete(message.ReceiptHandle ?? '');
      all.push(...batch);
    }
  }

  private remove(held: Held): void {
    this.messages.splice(this.messages.indexOf(held), 1);
  }
}

function asMessage(held: Held): Message {
  const attributes: Record<string, MessageAttributeValue> = held.send.MessageAttributes;
  return {
    MessageId: held.messageId,
    ReceiptHandle: held.receipt ?? '',
    Body: held.send.MessageBody,
    MessageAttributes: attributes,
    Attributes: {
      ApproximateReceiveCount: String(held.receives),
      SentTimestamp: String(held.sentAtMs),
      SenderId: held.senderId,
      ApproximateFirstReceiveTimestamp: String(held.firstReceivedAtMs ?? held.sentAtMs),
      ...(held.send.MessageGroupId ? { MessageGroupId: held.send.MessageGroupId } : {}),
    },
  };
}
