import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/multi-send.test.ts (sealed multi-recipient sends) with every relay on PostgreSQL.
usePostgresRelays();
await import('../multi-send.test.ts');
