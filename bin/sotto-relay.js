#!/usr/bin/env node
// `sotto-relay`: runs relay/cli.ts through tsx's loader (the sources are TypeScript).
import { register } from 'tsx/esm/api';

register();
await import('../relay/cli.ts');
