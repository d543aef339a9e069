import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/delivery.test.ts with every relay on PostgreSQL.
usePostgresRelays();
await import('../delivery.test.ts');
