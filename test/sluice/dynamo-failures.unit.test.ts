import { isConditionFailed, mapStoreFailure, SluiceStoreError } from '../../lambda/sluice';

/** The table's failure vocabulary, on errors shaped as the AWS SDK throws them. */
const awsError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} (test)`), { name, $metadata: { httpStatusCode: 400 }, ...extra });

describe('isConditionFailed', () => {
  it('recognises a failed condition by name, from any copy of the AWS SDK, with the item it returned', () => {
    const item = { pk: { S: 'idem#m-1' } };
    const error: unknown = awsError('ConditionalCheckFailedException', { Item: item });
    expect(isConditionFailed(error) && error.Item).toEqual(item);
    // Another bundle's class is not this one's: only the name says what it is.
    expect(isConditionFailed({ name: 'ConditionalCheckFailedException' })).toBe(true);
  });

  it.each([
    ['a cancelled transaction', awsError('TransactionCanceledException')],
    ['throttling', awsError('ThrottlingException')],
    ['a plain error', new Error('ConditionalCheckFailedException')],
    ['nothing', undefined],
    ['null', null],
  ])('refuses %s', (_, error) => {
    expect(isConditionFailed(error)).toBe(false);
  });
});

describe('mapStoreFailure', () => {
  it('maps throttling to SluiceStoreError("throttled") with the AWS error as cause', () => {
    const cause = awsError('ProvisionedThroughputExceededException');
    const mapped = mapStoreFailure(cause);
    expect(mapped).toBeInstanceOf(SluiceStoreError);
    expect([(mapped as SluiceStoreError).reason, (mapped as SluiceStoreError).cause]).toEqual([
      'throttled',
      cause,
    ]);
  });

  it('maps a request without an answer and a server fault to "unavailable"', () => {
    const lost = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
    const fault = awsError('InternalServerError', { $fault: 'server', $metadata: { httpStatusCode: 500 } });
    for (const error of [lost, fault]) {
      const mapped = mapStoreFailure(error);
      expect(mapped instanceof SluiceStoreError && [mapped.reason, mapped.cause]).toEqual([
        'unavailable',
        error,
      ]);
    }
  });

  it('leaves a client mistake, an error raised before sending and a store error as they are', () => {
    const mistake = awsError('ValidationException');
    const beforeSending = new RangeError('not encodable');
    const already = new SluiceStoreError('DynamoDB is unavailable: x', 'unavailable');
    for (const error of [mistake, beforeSending, already]) expect(mapStoreFailure(error)).toBe(error);
  });
});
