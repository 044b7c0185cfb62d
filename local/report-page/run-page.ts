import { writeFileSync } from 'node:fs';
import type { StackConfig } from '../../lib/config';
import type { CliOptions } from '../cli/options';
import { RunTimeline } from '../timeline/recorder';
import { runWidgets } from '../timeline/widgets';
import { type PageState, reportPage } from './page';

/** The timeline of a run of this configuration: every bucket's limit, the pool's size. */
export function timelineFor(config: StackConfig): RunTimeline {
  return new RunTimeline(
    config.buckets.map((bucket) => ({
      dimension: bucket.dimension,
      limitType: bucket.limitType,
      capacity: bucket.capacity,
      perSecond: bucket.limitType === 'concurrent' ? 0 : bucket.capacity / (bucket.windowSeconds ?? 1),
    })),
    config.vendor.maxInFlight,
  );
}

/** The page of a run: its charts from the timeline, the summary table (or, while it runs, progress). */
export function runPageState(input: {
  readonly timeline: RunTimeline;
  readonly options: CliOptions;
  readonly configFile: string;
  readonly nowMs: number;
  /** The terminal's summary table, once the run has ended. */
  readonly summary?: string;
}): PageState {
  const { options } = input;
  const vendor = options.vendorUrl ? `vendor ${options.vendorUrl}` : `simulator profile ${options.profile}`;
  return {
    title: 'Sluice local run',
    subtitle: `${vendor} · configuration ${input.configFile}${options.chaos ? ' · --chaos' : ''}`,
    charts: runWidgets(input.timeline.data(input.nowMs)),
    summary: input.summary ?? input.timeline.progressLines(),
    status: input.summary === undefined ? 'running' : 'finished',
  };
}

export function writeReportPage(file: string, state: PageState): void {
  writeFileSync(file, reportPage(state));
}
