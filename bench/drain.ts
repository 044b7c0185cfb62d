import type { BenchOptions } from './options';

export interface DrainResult {
  readonly ran: boolean;
  readonly reason?: string;
}

export async function runDrainStage(
  _options: BenchOptions,
  _progress: (line: string) => void,
): Promise<DrainResult> {
  return { ran: false, reason: 'not written yet' };
}
