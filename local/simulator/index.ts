/** The vendor simulator: three vendor profiles (docs/vendor.md, "Profiles"), with injectable faults. */
export { formatGoDuration, SimulatorBucket } from './bucket';
export {
  DEFAULT_FIXED_WINDOW,
  type FixedWindowSpec,
  parseFixedWindowSpec,
} from './fixed-window';
export { tokenUsage } from './openai';
export { ROUTES } from './routes';
export { startVendorSimulator } from './server';
export {
  DEFAULT_LIMITS,
  SIMULATOR_PROFILES,
  type SimulatorFaults,
  type SimulatorLimits,
  type SimulatorOptions,
  type SimulatorProfileName,
  type SimulatorStats,
  type VendorSimulator,
} from './types';
