#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { SluiceConfigError } from '../lambda/sluice';
import { buildSluiceApp } from '../lib/sluice-app';

try {
  buildSluiceApp(new App());
} catch (error) {
  // A configuration mistake is the user's to fix: print the one message, not a stack trace.
  if (!(error instanceof SluiceConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
