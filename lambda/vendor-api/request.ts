import { SluiceError } from '../sluice';
import type { VendorSettings } from '../worker-settings';

/**
 * Turning a message's vendor request into a method and a path the client may call. The host
 * comes from configuration only: a message never carries a URL, never climbs out of the
 * allow-list with `..`, and a parameter value can never add a path segment.
 */

export type VendorRequestRule =
  | 'missing-request'
  | 'unknown-operation'
  | 'missing-parameter'
  | 'method'
  | 'full-url'
  | 'protocol-relative'
  | 'relative-path'
  | 'dot-segment'
  | 'backslash'
  | 'not-allowed';

/** A message asked for a request the configuration does not allow: dead-letter it, never retry. */
export class VendorRequestError extends SluiceError {
  override readonly name: string = 'VendorRequestError';
  constructor(
    message: string,
    readonly rule: VendorRequestRule,
    readonly path?: string,
  ) {
    super(message);
  }
}

export function isVendorRequestError(error: unknown): error is VendorRequestError {
  return error instanceof VendorRequestError;
}

export interface MessageRequest {
  readonly operation?: string;
  readonly method?: string;
  readonly path?: string;
  readonly params?: Readonly<Record<string, string>>;
}

export interface ResolvedRequest {
  /** The configured operation name, or `METHOD path-prefix` for an allow-listed direct call. */
  readonly operation: string;
  readonly method: string;
  /** Relative to the vendor's base URL, placeholders filled, checked. */
  readonly path: string;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function resolveRequest(settings: VendorSettings, message: MessageRequest): ResolvedRequest {
  if (message.operation !== undefined) {
    const configured = settings.operations[message.operation];
    if (!configured) {
      const known = Object.keys(settings.operations).join(', ') || 'none';
      throw new VendorRequestError(
        `operation "${message.operation}" is not configured (known: ${known})`,
        'unknown-operation',
      );
    }
    const path = fillPlaceholders(configured.path, message.params ?? {}, `operation "${message.operation}"`);
    checkPath(path);
    return { operation: message.operation, method: configured.method, path };
  }
  if (message.method === undefined || message.path === undefined) {
    throw new VendorRequestError(
      'a vendor request needs an operation, or a method and a path',
      'missing-request',
    );
  }
  const method = message.method.toUpperCase();
  if (!METHODS.includes(method)) {
    throw new VendorRequestError(`method "${message.method}" is not one of ${METHODS.join(', ')}`, 'method');
  }
  const path = fillPlaceholders(message.path, message.params ?? {}, `path "${message.path}"`);
  checkPath(path);
  const operation = matchingOperation(settings, method, path);
  if (operation) return { operation, method, path };
  const prefix = settings.allowedPaths.find((allowed) => isUnder(pathOnly(path), allowed));
  if (prefix === undefined) {
    const allowed = settings.allowedPaths.join(', ') || 'none';
    throw new VendorRequestError(
      `path "${path}" is not under the allowed paths (${allowed}) and is no operation's path`,
      'not-allowed',
      path,
    );
  }
  return { operation: `${method} ${prefix}`, method, path };
}

/** `{name}` → the URL-encoded parameter, so a value can add neither a segment nor a query. */
function fillPlaceholders(template: string, params: Readonly<Record<string, string>>, what: string): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') {
      throw new VendorRequestError(
        `${what} needs parameter "${name}" for path ${template}`,
        'missing-parameter',
        template,
      );
    }
    if (value === '.' || value === '..') {
      throw new VendorRequestError(
        `parameter "${name}" is "${value}", a dot segment, in path ${template}`,
        'dot-segment',
        template,
      );
    }
    return encodeURIComponent(value);
  });
}

function checkPath(path: string): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new VendorRequestError(
      `path "${path}" is a full URL; a message carries a path relative to the vendor's base URL`,
      'full-url',
      path,
    );
  }
  if (path.startsWith('//')) {
    throw new VendorRequestError(
      `path "${path}" is protocol-relative (starts with //); a message carries a path relative to the vendor's base URL`,
      'protocol-relative',
      path,
    );
  }
  if (!path.startsWith('/')) {
    throw new VendorRequestError(`path "${path}" must start with /`, 'relative-path', path);
  }
  if (path.includes('\\')) {
    throw new VendorRequestError(`path "${path}" contains a backslash`, 'backslash', path);
  }
  // Decoded too: some servers resolve %2e%2e as `..`.
  const segments = pathOnly(path).split('/').map(safeDecode);
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new VendorRequestError(`path "${path}" contains a dot segment (. or ..)`, 'dot-segment', path);
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function pathOnly(path: string): string {
  return path.split(/[?#]/, 1)[0] ?? path;
}

/** Prefix on a segment boundary: `/visits` allows `/visits` and `/visits/1`, not `/visitsadmin`. */
function isUnder(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** A direct method + path that is exactly one configured operation's path is that operation. */
function matchingOperation(settings: VendorSettings, method: string, path: string): string | undefined {
  return Object.entries(settings.operations).find(([, operation]) => {
    if (operation.method !== method) return false;
    const pattern = operation.path
      .split(/\{[^}]+\}/)
      .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/?#]+');
    return new RegExp(`^${pattern}$`).test(pathOnly(path));
  })?.[0];
}
