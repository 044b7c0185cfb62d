'use strict';
/**
 * The example's synchronous call as its Lambda runs it, from the compiled example and the
 * installed sluice-aws of a temporary copy: `calls` invocations over `lanes` concurrent
 * lanes (concurrent Lambda environments). The SDK's JSON log lines go to stdout; the results
 * are written as JSON to `resultFile`.
 *
 * node sync-call-driver.cjs <appDir> <calls> <lanes> <resultFile>
 * env: SLUICE_* (the SDK), SLUICE_PRODUCT, VENDOR_BASE_URL, VENDOR_API_KEY
 */
const { writeFileSync } = require('node:fs');
const path = require('node:path');

const [appDir, calls, lanes, resultFile] = process.argv.slice(2);
const { createSyncCall, sluiceFromEnv } = require(path.join(appDir, 'dist', 'src', 'sync-call.js'));

async function main() {
  const sluice = sluiceFromEnv();
  const call = createSyncCall({
    sluice,
    baseUrl: process.env.VENDOR_BASE_URL,
    product: process.env.SLUICE_PRODUCT,
    apiKey: async () => process.env.VENDOR_API_KEY,
    slotTimeoutSeconds: 60,
  });
  const results = [];
  let next = 0;
  const lane = async () => {
    while (next < Number(calls)) {
      const index = next++;
      try {
        const { status } = await call({ locationId: `store-${index % 5}` });
        results.push({ index, status });
      } catch (error) {
        results.push({ index, error: `${error.name}: ${error.message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Number(lanes) }, lane));
  sluice.close();
  writeFileSync(resultFile, JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
