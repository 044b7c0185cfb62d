import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { sweepPage } from '../../lambda/sluice/store/dynamo-sweep';
import { itemToRecord } from '../../lambda/sluice/store/item-codec';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from '../../lambda/sluice/store/table';

/**
 * What DynamoDB Local never answers: a BatchGetItem that leaves keys unprocessed (over 16 MB, or
 * throttled). A stand-in client gives those answers; the sweep asks again for what was left,
 * three times at most, then lists the rest as unread instead of failing the sweep.
 */

const TABLE = 'buckets';
const stored = (pk: string) =>
  marshall(itemToRecord({ pk, version: 1, buckets: {}, templates: {}, writers: {} }));
const keyOf = (pk: string) => ({ [TABLE_PARTITION_KEY]: { S: pk } });

function standIn(batchAnswers: { read: string[]; left: string[] }[]) {
  const sent: string[] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof ScanCommand) {
        const start = command.input.ExclusiveStartKey;
        const from = `${start?.[TABLE_PARTITION_KEY]?.S ?? '-'}/${start?.[SWEEP_INDEX.partitionKey]?.S ?? '-'}`;
        sent.push(`Scan ${command.input.IndexName} from ${from}`);
        return {
          Items: ['a', 'b', 'c'].map((pk) => ({ ...keyOf(pk), [SWEEP_INDEX.partitionKey]: { S: pk } })),
          LastEvaluatedKey: { ...keyOf('c'), [SWEEP_INDEX.partitionKey]: { S: 'c' } },
        };
      }
      if (command instanceof BatchGetItemCommand) {
        const asked = command.input.RequestItems?.[TABLE]?.Keys?.map((k) => k[TABLE_PARTITION_KEY]?.S);
        sent.push(`BatchGetItem ${asked?.join(',')}`);
        const answer = batchAnswers.shift()!;
        return {
          Responses: { [TABLE]: answer.read.map(stored) },
          UnprocessedKeys: answer.left.length > 0 ? { [TABLE]: { Keys: answer.left.map(keyOf) } } : {},
        };
      }
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as DynamoDBClient, sent };
}

describe('a sweep page whose items DynamoDB reads in parts', () => {
  it('asks again for the keys left unprocessed until all are read', async () => {
    const { client, sent } = standIn([
      { read: ['a'], left: ['b', 'c'] },
      { read: ['c', 'b'], left: [] },
    ]);
    const page = await sweepPage(client, TABLE, undefined, 100);
    expect({
      pks: page.items.map((i) => i.pk).sort(),
      unread: page.unread,
      cursor: page.cursor,
      sent,
    }).toEqual({
      pks: ['a', 'b', 'c'],
      unread: undefined,
      cursor: 'c',
      sent: ['Scan sweep from -/-', 'BatchGetItem a,b,c', 'BatchGetItem b,c'],
    });
  });

  it('lists as unread what is still left after three asks, with what was read', async () => {
    const { client, sent } = standIn([
      { read: ['a'], left: ['b', 'c'] },
      { read: ['b'], left: ['c'] },
      { read: [], left: ['c'] },
    ]);
    const page = await sweepPage(client, TABLE, 'z', 100);
    expect({ pks: page.items.map((i) => i.pk), unread: page.unread, sent }).toEqual({
      pks: ['a', 'b'],
      unread: ['c'],
      // The cursor is a pk: the index's key and the table's, both.
      sent: ['Scan sweep from z/z', 'BatchGetItem a,b,c', 'BatchGetItem b,c', 'BatchGetItem c'],
    });
  });
});
