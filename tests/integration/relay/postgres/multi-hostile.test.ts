import { usePostgresRelays } from './use-postgres.ts';

// tests/integration/relay/multi-hostile.test.ts (hostile multi-recipient input) with every relay on PostgreSQL.
usePostgresRelays();
await import('../multi-hostile.test.ts');
