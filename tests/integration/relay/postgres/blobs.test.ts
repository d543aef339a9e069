import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/blobs.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../blobs.test.ts');
