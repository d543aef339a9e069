import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/blob-races.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../blob-races.test.ts');
