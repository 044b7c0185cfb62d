/**
 * The AWS SDK warns, on every CLI run under Node 20 (the version the README asks for), that
 * its releases after January 2027 will need Node 22. `@aws-sdk/core` skips the warning when
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is "true"; the CLIs set it unless the user
 * chose otherwise. The deployed Lambdas run a newer Node and never see it.
 */
export function quietNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
