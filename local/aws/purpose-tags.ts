import type { Granted } from '../../lambda/sluice';
import type { SluicePort } from '../../lambda/worker/ports';
import { dynamoPurpose, Purpose } from './dynamodb-meter';

/**
 * The worker's SDK calls, each run under the purpose its DynamoDB requests are counted for
 * (local/aws/dynamodb-meter.ts): acquire is a grant, a grant's release and settle are theirs,
 * and so on. The grant keeps its identity (the SDK's hand-over recognises its own grants):
 * its `release` and `settle` are wrapped in place.
 */
export function taggedSluice(sluice: SluicePort): SluicePort {
  const tagGrant = <T>(result: T): T => {
    if ((result as { outcome?: string }).outcome === 'Granted') tagged(result as unknown as Granted);
    return result;
  };
  return {
    acquire: async (request, options) =>
      tagGrant(await dynamoPurpose.run(Purpose.grant, () => sluice.acquire(request, options))),
    penalize: (dimension, factor, options) =>
      dynamoPurpose.run(Purpose.penalize, () => sluice.penalize(dimension, factor, options)),
    resync: (dimension, remaining) =>
      dynamoPurpose.run(Purpose.resync, () => sluice.resync(dimension, remaining)),
    ...(sluice.handOver
      ? {
          handOver: async (grant, options) => {
            const next = await dynamoPurpose.run(Purpose.handOver, () => sluice.handOver!(grant, options));
            return next ? tagGrant(next) : next;
          },
        }
      : {}),
  };
}

function tagged(grant: Granted): void {
  const mutable = grant as { -readonly [K in keyof Granted]: Granted[K] };
  const { release, settle } = grant;
  mutable.release = () => dynamoPurpose.run(Purpose.release, release);
  mutable.settle = (actual) => dynamoPurpose.run(Purpose.settle, () => settle(actual));
}
