/** Calling a vendor politely: classify answers, read pacing headers, back off, resolve safe paths. */
export { type BackoffOptions, backoffDelayMs } from '../backoff';
export { type ClassifyOptions, classifyStatus, isRetriedByClient, type ResponseClass } from './classify';
export {
  sleepWithSignal,
  type VendorCall,
  type VendorCallResult,
  VendorClient,
  type VendorClientOptions,
  type VendorMeasure,
} from './client';
export { parseResetDuration, parseRetryAfter, type RateLimitHeaders, readRateLimitHeaders } from './headers';
export {
  isVendorRequestError,
  type MessageRequest,
  type ResolvedRequest,
  resolveRequest,
  VendorRequestError,
  type VendorRequestRule,
} from './request';
export { SecretApiKeyProvider, type SecretApiKeyProviderOptions, SecretKeyError } from './secret';
