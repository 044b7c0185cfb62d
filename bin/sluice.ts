#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { isStackConfigError } from '../lib/config';
import { buildSluiceApp } from '../lib/sluice-app';

try {
  buildSluiceApp(new App());
} catch (error) {
  // A configuration mistake is the user's to fix: print the one message, not a stack trace.
  if (!isStackConfigError(error)) throw error;
  console.error(error.message);
  process.exit(1);
}
