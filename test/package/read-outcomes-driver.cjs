'use strict';
/**
 * The example's outcome reader as its Lambda runs it: the `handler` of the compiled example,
 * with the installed sluice-aws of a temporary copy. Forked by the test, whose event source
 * (local/poller's, on the real queue) sends each batch as `{ seq, event }` over IPC and gets
 * `{ seq, response }` (or `{ seq, error }`) back. The handler's JSON log lines go to stdout and
 * stderr, as in Lambda. It ends when the test disconnects.
 *
 * node read-outcomes-driver.cjs <appDir>      env: SLUICE_PRODUCT (the example's own)
 */
const path = require('node:path');

const [appDir] = process.argv.slice(2);
const { handler } = require(path.join(appDir, 'dist', 'src', 'read-outcomes.js'));

process.on('message', ({ seq, event }) => {
  handler(event).then(
    (response) => process.send({ seq, response }),
    (error) => process.send({ seq, error: `${error.name}: ${error.message}` }),
  );
});
process.on('disconnect', () => process.exit(0));
