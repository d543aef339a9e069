import { z } from 'zod';
import { MAX_MUTE_MS, MIN_MUTE_MS } from '../mute.ts';

/** A mute's length across IPC: whole milliseconds in [MIN_MUTE_MS, MAX_MUTE_MS], or null for always. */
export const muteDurationSchema = z.number().int().min(MIN_MUTE_MS).max(MAX_MUTE_MS).nullable();
