import type { SluiceSettings } from './settings';

/** Seconds kept between the slot deadline and the Lambda timeout (docs/worker.md: a Lambda timeout runs no `finally`, so the slot must end first). */
export const SLOT_MARGIN_SECONDS = 5;

/** A lease outlives the slot deadline plus the margin, so reconcile never takes a running holder's slot. */
export function leaseLifetimeMs(settings: SluiceSettings, leaseTtlSeconds?: number): number {
  const ttl = leaseTtlSeconds ?? settings.leaseTtlSeconds;
  return Math.ceil(Math.max(ttl, settings.defaultSlotTimeoutSeconds + SLOT_MARGIN_SECONDS) * 1000);
}
