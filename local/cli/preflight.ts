import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { messageSizeProblem, validateMessage as validateProducerMessage } from '../../lambda/producer';
import { isVendorRequestError, resolveRequest } from '../../lambda/vendor-api/request';
import type { StackConfig } from '../../lib/config';
import { routeFor } from '../simulator/routes';
import { type CliOptions, DEFAULT_COUNTS, isProfile, PROFILES } from './options';
import { CliUsageError } from './usage';

/**
 * Checks that need the configuration and the options together, made before any server
 * starts: a run that cannot work is refused with the reason, instead of running and
 * dead-lettering everything.
 */

/**
 * The simulator profile and the demo workload follow the configuration's vendor. A
 * `--profile` that names another of the simulator's vendors, or a configuration for a vendor
 * the simulator does not emulate (without `--vendor-url`), is refused; so is an operation the
 * profile does not serve, which the simulator would answer 404 for every message.
 */
export function followConfiguration(
  options: CliOptions,
  config: StackConfig,
  configFile: string,
): CliOptions {
  const vendor = config.vendor.name;
  const profile = options.given.profile ? options.profile : isProfile(vendor) ? vendor : options.profile;
  const count = options.given.count || options.serve ? options.count : DEFAULT_COUNTS[profile];
  const followed = { ...options, profile, count };
  const problems: string[] = [];
  // The profile picks the simulator, and the shape of the demo workload: with --vendor-url
  // and --messages it picks neither.
  const used = options.vendorUrl
    ? options.messagesFile
      ? undefined
      : 'shapes the demo workload as'
    : 'starts the simulator as';
  if (used && isProfile(vendor) && profile !== vendor) {
    problems.push(
      `--profile ${profile} ${used} ${profile}, but ${configFile} configures vendor "${vendor}": leave out --profile (it follows the configuration) or give a configuration for ${profile}`,
    );
  } else if (!options.vendorUrl && !isProfile(vendor)) {
    problems.push(
      `${configFile} configures vendor "${vendor}", which the simulator does not emulate (profiles: ${PROFILES.join(', ')}): give --vendor-url, or a configuration for one of the profiles`,
    );
  } else if (!options.vendorUrl) {
    for (const [name, operation] of Object.entries(config.vendor.operations)) {
      const path = operation.path.replace(/\{[^}]+\}/g, 'x');
      if (!routeFor(profile, operation.method, path)) {
        problems.push(
          `${configFile}: vendor.operations.${name} (${operation.method} ${operation.path}) is not served by the ${profile} simulator: it would answer 404 for every message`,
        );
      }
    }
  }
  if (problems.length > 0) throw new CliUsageError(`Cannot run:\n  ${problems.join('\n  ')}`);
  return followed;
}

/**
 * What the worker would dead-letter at once, said before the run: the producer contract, the
 * size SQS takes, and whether the configured vendor has the operation or allows the path.
 * Undefined if the message can run.
 */
export function messageProblemFor(config: StackConfig): (message: unknown) => string | undefined {
  return (message) => {
    const parsed = validateProducerMessage(message);
    if (!parsed.ok) return parsed.reason;
    const tooBig = messageSizeProblem(parsed.message);
    if (tooBig) return tooBig;
    try {
      resolveRequest(config.vendor, parsed.message);
      return undefined;
    } catch (error) {
      if (isVendorRequestError(error)) return error.message;
      throw error;
    }
  };
}

/** `--report FILE` is written after the run: its folder is checked now, so the results are not lost. */
export function checkReportPath(file: string | undefined, option = '--report'): void {
  if (file === undefined) return;
  const path = resolve(file);
  const folder = dirname(path);
  let problem: string | undefined;
  try {
    if (!statSync(folder).isDirectory()) problem = `${folder} is not a folder`;
    else accessSync(folder, constants.W_OK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    problem =
      code === 'ENOENT'
        ? `the folder ${folder} does not exist`
        : code === 'EACCES'
          ? `the folder ${folder} is not writable`
          : String(error);
  }
  try {
    if (problem === undefined && statSync(path).isDirectory()) problem = `${path} is a folder`;
  } catch {
    // Not there yet: the run creates it.
  }
  if (problem) throw new CliUsageError(`${option} ${file}: cannot write the report (${problem})`);
}
