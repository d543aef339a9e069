import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/blob-hostile.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../blob-hostile.test.ts');
