#!/usr/bin/env -S node --import tsx
import { buildProgram } from '../lib/cli/program';

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
