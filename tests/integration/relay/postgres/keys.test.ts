import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/keys.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../keys.test.ts');
