/**
 * The SDK's log events, named as in the documented Sluice so users' Logs Insights queries keep
 * working. The worker's own events extend them (`LogEvent` in lambda/contract.ts).
 */
export const SluiceLogEvent = {
  acquireGranted: 'acquire.granted',
  acquireRetryIn: 'acquire.retry_in',
  acquireContentionRetry: 'acquire.contention_retry',
  slotTimeout: 'slot.timeout',
  releaseOk: 'release.ok',
  handedOver: 'hand_over.ok',
  handOverRefused: 'hand_over.refused',
  penalizeApplied: 'penalize.applied',
  reconcilerScanComplete: 'reconciler.scan_complete',
} as const;
