#!/usr/bin/env node
/** The `junction` executable. */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Let pending output drain and exit normally; if something still holds the event loop open
// (a socket an adapter failed to close), exit anyway.
setTimeout(() => process.exit(code), 1000).unref();
