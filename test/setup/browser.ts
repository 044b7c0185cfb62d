import { existsSync } from 'node:fs';

/**
 * The system's Chromium, which the report page's browser test drives with playwright-core
 * (its own browser download cannot be used here). `.ci/run` installs Debian's `chromium` when it
 * is missing; `SLUICE_CHROMIUM` names another binary.
 */
export function chromiumPath(): string {
  const candidates = [
    process.env.SLUICE_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ].filter((path): path is string => typeof path === 'string' && path !== '');
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `no Chromium found (looked for ${candidates.join(', ')}): install it (apt-get install -y chromium) or set SLUICE_CHROMIUM`,
    );
  }
  return found;
}
