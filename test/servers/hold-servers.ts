// Started by local-servers.test.ts in its own process: starts both servers, prints their
// pids, and waits to be killed by a signal.
import { startDynamoDbLocal } from '../../local/servers/dynamodb-local';
import { startFauxqs } from '../../local/servers/fauxqs';

Promise.all([startDynamoDbLocal(), startFauxqs()]).then(([dynamo, sqs]) => {
  process.stdout.write(`PIDS ${dynamo.pid} ${sqs.pid}\n`);
  setInterval(() => undefined, 1_000);
});
