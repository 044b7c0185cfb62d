import { type BucketStore, SluiceStoreError } from '../../lambda/sluice';

type Operation = 'write' | 'writeAll' | 'takeStored' | 'handOverLeases' | 'returnLease' | 'create';

/**
 * A store in front of a real one that loses answers the way DynamoDB and the network do:
 * - `repeat`: the request is applied, its answer lost, and the AWS SDK's own retry sends the
 *   very same request again; the caller sees the second answer;
 * - `fail`: the request is applied and the answer lost for good (the retries too): the caller
 *   sees `SluiceStoreError('unavailable')`, not knowing whether anything was applied.
 * Planned per operation and consumed in order; all other calls pass through.
 */
export class LostAnswerStore implements BucketStore {
  private readonly planned: { operation: Operation; kind: 'repeat' | 'fail' }[] = [];
  readonly injected: Operation[] = [];

  constructor(private readonly inner: BucketStore) {}

  plan(operation: Operation, kind: 'repeat' | 'fail'): void {
    this.planned.push({ operation, kind });
  }

  get pending(): number {
    return this.planned.length;
  }

  get = (pk: string) => this.inner.get(pk);
  scan = (cursor?: string, limit?: number) => this.inner.scan(cursor, limit);
  sweep = (cursor?: string, limit?: number) => this.inner.sweep(cursor, limit);
  markForSweep = (pk: string) => this.inner.markForSweep(pk);
  create = (...args: Parameters<BucketStore['create']>) =>
    this.lossy('create', () => this.inner.create(...args));
  write = (...args: Parameters<BucketStore['write']>) => this.lossy('write', () => this.inner.write(...args));
  writeAll = (...args: Parameters<BucketStore['writeAll']>) =>
    this.lossy('writeAll', () => this.inner.writeAll(...args));
  takeStored = (...args: Parameters<BucketStore['takeStored']>) =>
    this.lossy('takeStored', () => this.inner.takeStored(...args));
  handOverLeases = (...args: Parameters<BucketStore['handOverLeases']>) =>
    this.lossy('handOverLeases', () => this.inner.handOverLeases(...args));
  returnLease = (...args: Parameters<BucketStore['returnLease']>) =>
    this.lossy('returnLease', () => this.inner.returnLease(...args));

  private async lossy<T>(operation: Operation, send: () => Promise<T>): Promise<T> {
    const index = this.planned.findIndex((p) => p.operation === operation);
    if (index < 0) return send();
    const { kind } = this.planned.splice(index, 1)[0]!;
    this.injected.push(operation);
    await send(); // applied; its answer is lost
    if (kind === 'fail') {
      throw new SluiceStoreError('DynamoDB is unavailable: the answer was lost (injected)', 'unavailable');
    }
    return send(); // the SDK's retry: the same request again
  }
}
