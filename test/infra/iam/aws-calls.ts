/**
 * Every AWS call the runtime can make, as data the IAM tests evaluate against the synthesized
 * role policies. Two tables, both checked against the code (aws-calls.unit.test.ts):
 *
 * - `ADAPTER_COMMANDS`: per file of lambda/, the AWS SDK commands it imports and the IAM actions
 *   each needs (a transaction needs the actions of the items it holds; the file's
 *   `ConditionCheck:`/`Put:`/`Update:`/`Delete:` items are read to check that). A command imported
 *   anywhere and missing here fails the test.
 * - `ROLE_CALLS`: per Lambda (and for a product given the grants), what it sends: for every
 *   adapter file its entry reaches through its imports, each command is either sent (with the
 *   resources and item keys it touches) or listed as not sent, with the reason. A new command in a
 *   reached adapter fails the test until it is classified for every role that reaches it.
 */

/** The resources of the stack a call may touch (the IAM test resolves each to its ARN). */
export type ResourceKind =
  | 'table'
  | 'sweepIndex'
  | 'workQueue'
  | 'deadLetterQueue'
  | 'topic'
  | 'bodies'
  | 'productBodies'
  | 'otherProductBodies'
  | 'secret';

/**
 * The kinds of item in the bucket table (lambda/sluice/core/dimensions.ts,
 * lambda/idempotency/store.ts, lambda/circuit/store.ts): a vendor's item (its bucket
 * definitions, templates and unkeyed buckets), a keyed bucket's own item, an idempotency record,
 * the vendor circuit.
 */
export type KeyKind = 'vendorItem' | 'keyedItem' | 'idempotency' | 'circuit';

/** A sample partition key of each kind, for the policy evaluation's `dynamodb:LeadingKeys`. */
export const SAMPLE_KEYS: Readonly<Record<KeyKind, string>> = {
  vendorItem: 'waitwhile',
  keyedItem: 'waitwhile#location-writes#loc-42',
  idempotency: 'idem#waitwhile-app#order-1',
  circuit: 'circuit#waitwhile',
};

const table = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`);

export const ADAPTER_COMMANDS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'lambda/sluice/store/dynamo-store.ts': {
    GetItemCommand: table('GetItem'),
    PutItemCommand: table('PutItem'),
    ScanCommand: table('Scan'),
    // createFromTemplate: a ConditionCheck on the template and a Put of the key's item;
    // writeAll: Updates.
    TransactWriteItemsCommand: table('ConditionCheckItem', 'PutItem', 'UpdateItem'),
    UpdateItemCommand: table('UpdateItem'),
  },
  'lambda/sluice/store/dynamo-send.ts': { UpdateItemCommand: table('UpdateItem') },
  'lambda/sluice/store/dynamo-sweep.ts': {
    BatchGetItemCommand: table('BatchGetItem'),
    ScanCommand: table('Scan'),
  },
  'lambda/sluice/store/table.ts': {
    CreateTableCommand: table('CreateTable'),
    UpdateTimeToLiveCommand: table('UpdateTimeToLive'),
  },
  'lambda/idempotency/dynamo-store.ts': {
    // A batch's claims: PartiQL INSERTs (BatchExecuteStatement needs the action of its statements).
    BatchExecuteStatementCommand: table('PartiQLInsert'),
    PutItemCommand: table('PutItem'),
    UpdateItemCommand: table('UpdateItem'),
    DeleteItemCommand: table('DeleteItem'),
  },
  'lambda/circuit/dynamo-store.ts': {
    GetItemCommand: table('GetItem'),
    PutItemCommand: table('PutItem'),
  },
  'lambda/worker/adapters/queues.ts': { SendMessageCommand: ['sqs:SendMessage'] },
  'lambda/producer/enqueue.ts': { SendMessageBatchCommand: ['sqs:SendMessage'] },
  'lambda/vendor-api/secret.ts': { GetSecretValueCommand: ['secretsmanager:GetSecretValue'] },
  'lambda/outcomes/aws.ts': { PublishCommand: ['sns:Publish'], PutObjectCommand: ['s3:PutObject'] },
};

/** One request: an IAM action on a resource (for the table, on items of these kinds). */
export interface AwsRequest {
  readonly action: string;
  readonly resource: ResourceKind;
  readonly keys?: readonly KeyKind[];
}

export interface RoleCalls {
  /** The code the role runs: its handler (or, for a product, the package entrances it uses). */
  readonly entries: readonly string[];
  /** `file:Command` → the requests it makes for this role. */
  readonly sends: Readonly<Record<string, readonly AwsRequest[]>>;
  /** `file:Command` reached through the imports but never sent by this role → why. */
  readonly notSent: Readonly<Record<string, string>>;
  /** Requests made by code outside lambda/ (a product's own reader), with the file that makes them. */
  readonly extra?: readonly (AwsRequest & { readonly by: string })[];
  /** Requests this role must be refused: what least privilege promises. */
  readonly refused: readonly AwsRequest[];
}

const STORE = 'lambda/sluice/store/dynamo-store.ts';
const SEND = 'lambda/sluice/store/dynamo-send.ts';
const SWEEP = 'lambda/sluice/store/dynamo-sweep.ts';
const TABLE = 'lambda/sluice/store/table.ts';
const IDEMPOTENCY = 'lambda/idempotency/dynamo-store.ts';
const CIRCUIT = 'lambda/circuit/dynamo-store.ts';
const QUEUES = 'lambda/worker/adapters/queues.ts';
const ENQUEUE = 'lambda/producer/enqueue.ts';
const SECRET = 'lambda/vendor-api/secret.ts';
const OUTCOMES = 'lambda/outcomes/aws.ts';

const on = (action: string, resource: ResourceKind, keys?: readonly KeyKind[]): AwsRequest =>
  keys ? { action, resource, keys } : { action, resource };
const BUCKETS: readonly KeyKind[] = ['vendorItem', 'keyedItem'];

/** What an SDK caller (acquire, slot, release, penalize, settle, resync) sends, on bucket items only. */
const SDK_CALLER_SENDS: Readonly<Record<string, readonly AwsRequest[]>> = {
  [`${STORE}:GetItemCommand`]: [on('dynamodb:GetItem', 'table', BUCKETS)],
  [`${STORE}:TransactWriteItemsCommand`]: [
    // First use of a key: the template's item is checked, the key's item put.
    on('dynamodb:ConditionCheckItem', 'table', ['vendorItem']),
    on('dynamodb:PutItem', 'table', ['keyedItem']),
    on('dynamodb:UpdateItem', 'table', BUCKETS),
  ],
  [`${STORE}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', BUCKETS)],
  [`${SEND}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', BUCKETS)],
};

const ADMIN_ONLY = 'upsert (a PutItem of a vendor item) and the sweep: the seeding and reconciler Lambdas';
const LOCAL_ONLY = 'createBucketTable: the local stack and tests only (the CDK stack defines the table)';

const WORKER_OWN_ITEMS: readonly KeyKind[] = ['idempotency', 'circuit'];

export const ROLE_CALLS: Readonly<
  Record<'worker' | 'reconciler' | 'seeding' | 'relay' | 'product', RoleCalls>
> = {
  worker: {
    entries: ['lambda/handlers/worker.ts'],
    sends: {
      ...SDK_CALLER_SENDS,
      [`${IDEMPOTENCY}:BatchExecuteStatementCommand`]: [
        on('dynamodb:PartiQLInsert', 'table', ['idempotency']),
      ],
      [`${IDEMPOTENCY}:PutItemCommand`]: [on('dynamodb:PutItem', 'table', ['idempotency'])],
      [`${IDEMPOTENCY}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', ['idempotency'])],
      [`${IDEMPOTENCY}:DeleteItemCommand`]: [on('dynamodb:DeleteItem', 'table', ['idempotency'])],
      [`${CIRCUIT}:GetItemCommand`]: [on('dynamodb:GetItem', 'table', ['circuit'])],
      [`${CIRCUIT}:PutItemCommand`]: [on('dynamodb:PutItem', 'table', ['circuit'])],
      [`${QUEUES}:SendMessageCommand`]: [
        on('sqs:SendMessage', 'workQueue'),
        on('sqs:SendMessage', 'deadLetterQueue'),
      ],
      [`${SECRET}:GetSecretValueCommand`]: [on('secretsmanager:GetSecretValue', 'secret')],
      [`${OUTCOMES}:PublishCommand`]: [on('sns:Publish', 'topic')],
      [`${OUTCOMES}:PutObjectCommand`]: [on('s3:PutObject', 'bodies')],
    },
    notSent: {
      [`${STORE}:PutItemCommand`]: ADMIN_ONLY,
      [`${STORE}:ScanCommand`]: ADMIN_ONLY,
      [`${SWEEP}:ScanCommand`]: ADMIN_ONLY,
      [`${SWEEP}:BatchGetItemCommand`]: ADMIN_ONLY,
      [`${TABLE}:CreateTableCommand`]: LOCAL_ONLY,
      [`${TABLE}:UpdateTimeToLiveCommand`]: LOCAL_ONLY,
    },
    refused: [on('dynamodb:Scan', 'table'), on('dynamodb:DeleteTable', 'table')],
  },
  reconciler: {
    entries: ['lambda/handlers/reconciler.ts'],
    sends: {
      // The sweep: bucket items' keys from the sparse index, then the items, in batches.
      [`${SWEEP}:ScanCommand`]: [on('dynamodb:Scan', 'sweepIndex')],
      [`${SWEEP}:BatchGetItemCommand`]: [on('dynamodb:BatchGetItem', 'table', BUCKETS)],
      // Returns expired leases and forgets idle writer lanes.
      [`${STORE}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', BUCKETS)],
      [`${SEND}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', BUCKETS)],
      // Reports the vendor circuit's state every run, traffic or not.
      [`${CIRCUIT}:GetItemCommand`]: [on('dynamodb:GetItem', 'table', ['circuit'])],
    },
    notSent: {
      [`${CIRCUIT}:PutItemCommand`]: 'the circuit report only reads: workers rewrite the item',
      [`${STORE}:GetItemCommand`]: 'the sweep reads its items in batches and never loads one alone',
      [`${STORE}:ScanCommand`]: 'the sweep reads the sweep index, never the whole table',
      [`${STORE}:PutItemCommand`]: 'the sweep creates nothing',
      [`${STORE}:TransactWriteItemsCommand`]: 'the sweep writes one item at a time',
      [`${TABLE}:CreateTableCommand`]: LOCAL_ONLY,
      [`${TABLE}:UpdateTimeToLiveCommand`]: LOCAL_ONLY,
    },
    refused: [
      on('dynamodb:PutItem', 'table', ['idempotency']),
      on('dynamodb:DeleteItem', 'table', BUCKETS),
      // The table itself is never scanned, nor a record that is not a bucket read.
      on('dynamodb:Scan', 'table'),
      on('dynamodb:BatchGetItem', 'table', WORKER_OWN_ITEMS),
      on('dynamodb:GetItem', 'table', ['idempotency']),
    ],
  },
  seeding: {
    entries: ['lambda/handlers/seed-buckets.ts'],
    sends: {
      [`${STORE}:GetItemCommand`]: [on('dynamodb:GetItem', 'table', BUCKETS)],
      [`${STORE}:PutItemCommand`]: [on('dynamodb:PutItem', 'table', ['vendorItem'])],
      // A keyed definition is applied to every existing key item, found by a scan.
      [`${STORE}:ScanCommand`]: [on('dynamodb:Scan', 'table')],
      // Also puts bucket items written before the sweep index in it (markForSweep).
      [`${STORE}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', BUCKETS)],
      [`${SEND}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', BUCKETS)],
    },
    notSent: {
      [`${STORE}:TransactWriteItemsCommand`]: 'upserts write one item at a time',
      [`${SWEEP}:ScanCommand`]: 'upserts find key items by scanning the table, not the sweep index',
      [`${SWEEP}:BatchGetItemCommand`]: 'upserts find key items by scanning the table, not the sweep index',
      [`${TABLE}:CreateTableCommand`]: LOCAL_ONLY,
      [`${TABLE}:UpdateTimeToLiveCommand`]: LOCAL_ONLY,
    },
    refused: [on('dynamodb:DeleteItem', 'table', BUCKETS)],
  },
  relay: {
    entries: ['lambda/handlers/dead-letter-relay.ts'],
    sends: {
      [`${IDEMPOTENCY}:PutItemCommand`]: [on('dynamodb:PutItem', 'table', ['idempotency'])],
      [`${IDEMPOTENCY}:UpdateItemCommand`]: [on('dynamodb:UpdateItem', 'table', ['idempotency'])],
      [`${QUEUES}:SendMessageCommand`]: [on('sqs:SendMessage', 'deadLetterQueue')],
      [`${OUTCOMES}:PublishCommand`]: [on('sns:Publish', 'topic')],
    },
    notSent: {
      [`${IDEMPOTENCY}:DeleteItemCommand`]: 'the relay never claims an id, so it has no claim to abandon',
      [`${IDEMPOTENCY}:BatchExecuteStatementCommand`]:
        'the relay never claims an id: it only records dead letters',
      [`${OUTCOMES}:PutObjectCommand`]:
        'a dead-lettered outcome carries no answer body, so nothing is claim-checked (no body store is wired)',
      // The relay's wiring (lambda/relay/wire.ts) builds only the idempotency store, the DLQ
      // sender and the topic. Its configuration reader imports the SDK's entrance (for
      // SluiceConfigError, and through the worker's readers): the SDK's commands are reachable
      // but never sent.
      ...Object.fromEntries(
        [
          `${STORE}:GetItemCommand`,
          `${STORE}:PutItemCommand`,
          `${STORE}:ScanCommand`,
          `${STORE}:TransactWriteItemsCommand`,
          `${STORE}:UpdateItemCommand`,
          `${SEND}:UpdateItemCommand`,
          `${SWEEP}:ScanCommand`,
          `${SWEEP}:BatchGetItemCommand`,
          `${TABLE}:CreateTableCommand`,
          `${TABLE}:UpdateTimeToLiveCommand`,
        ].map((sent) => [sent, "the SDK's, reached only through the configuration reader"]),
      ),
    },
    refused: [on('sqs:SendMessage', 'workQueue'), on('dynamodb:GetItem', 'table', BUCKETS)],
  },
  product: {
    entries: ['lambda/sluice/index.ts', 'lambda/producer/index.ts'],
    sends: {
      ...SDK_CALLER_SENDS,
      [`${ENQUEUE}:SendMessageBatchCommand`]: [on('sqs:SendMessage', 'workQueue')],
    },
    notSent: {
      [`${STORE}:PutItemCommand`]: ADMIN_ONLY,
      [`${STORE}:ScanCommand`]: ADMIN_ONLY,
      [`${SWEEP}:ScanCommand`]: ADMIN_ONLY,
      [`${SWEEP}:BatchGetItemCommand`]: ADMIN_ONLY,
      [`${TABLE}:CreateTableCommand`]: LOCAL_ONLY,
      [`${TABLE}:UpdateTimeToLiveCommand`]: LOCAL_ONLY,
    },
    extra: [
      {
        ...on('s3:GetObject', 'productBodies'),
        by: 'examples/second-product/src/read-outcomes.ts (a claim-checked body, grantReadBodies)',
      },
    ],
    refused: [
      // A product writes bucket state only: never another's records, the circuit or a
      // vendor item as a whole (its definitions).
      on('dynamodb:PutItem', 'table', [...WORKER_OWN_ITEMS, 'vendorItem']),
      on('dynamodb:UpdateItem', 'table', WORKER_OWN_ITEMS),
      on('dynamodb:DeleteItem', 'table', [...WORKER_OWN_ITEMS, ...BUCKETS]),
      on('dynamodb:GetItem', 'table', WORKER_OWN_ITEMS),
      on('dynamodb:Scan', 'table'),
      on('s3:GetObject', 'otherProductBodies'),
      on('sqs:SendMessage', 'deadLetterQueue'),
    ],
  },
};
