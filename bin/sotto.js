#!/usr/bin/env node
// `sotto`: runs electron/cli/main.ts through tsx's loader (the sources are TypeScript).
import { register } from 'tsx/esm/api';

register();
await import('../electron/cli/main.ts');
