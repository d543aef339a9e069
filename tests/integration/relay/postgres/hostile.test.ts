import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/hostile.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../hostile.test.ts');
