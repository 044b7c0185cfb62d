import type { StackConfig } from '../lib/config';
import type { CliOptions } from './cli-options';
import type { LocalVendor, RunDependencies, WiredHandlers, WireOptions } from './wiring-types';

/** The producer contract's verdict on one message of a `--messages` file, or undefined if valid. */
export function validateMessage(_message: unknown, _config: StackConfig): string | undefined {
  return undefined;
}

async function startVendor(options: CliOptions): Promise<LocalVendor> {
  if (options.vendorUrl) return { url: options.vendorUrl, apiKey: 'local-dev-key', stop: async () => {} };
  throw new Error('the vendor simulator is not wired yet');
}

async function wireHandlers(_options: WireOptions): Promise<WiredHandlers> {
  throw new Error('the worker is not wired yet');
}

export const realDependencies: RunDependencies = { startVendor, wireHandlers };
