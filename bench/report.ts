import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DrainResult } from './drain';
import type { BenchJson } from './run';

const RESULTS_DIR = join(__dirname, 'results');

export function writeOutputs(outputs: { suite?: BenchJson; drain?: DrainResult }): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (outputs.suite)
    writeFileSync(join(RESULTS_DIR, 'suite.json'), `${JSON.stringify(outputs.suite, null, 2)}\n`);
  if (outputs.drain)
    writeFileSync(join(RESULTS_DIR, 'drain.json'), `${JSON.stringify(outputs.drain, null, 2)}\n`);
}
