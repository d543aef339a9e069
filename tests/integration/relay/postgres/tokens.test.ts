import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/tokens.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../tokens.test.ts');
