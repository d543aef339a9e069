import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  ContentHint,
  groupDecrypt,
  groupEncrypt,
  processSenderKeyDistributionMessage,
  SenderKeyDistributionMessage,
  sealedSenderMultiRecipientEncrypt,
  sealedSenderDecryptToUsmc,
  sealedSenderMultiRecipientMessageForSingleRecipient,
  UnidentifiedSenderMessageContent,
} from '@signalapp/libsignal-client';
import { ProtocolTransaction } from '../../electron/core/crypto/protocol-transaction.ts';
import { saveGroup } from '../../electron/core/groups/group-store.ts';
import { SenderKeyUnit } from '../../electron/core/groups/sender-key-store.ts';
import { localAddress, peerAddress } from '../../electron/core/messaging/addresses.ts';
import { processEnvelopes } from '../../electron/core/messaging/receive.ts';
import { senderCertificate } from '../../electron/core/messaging/sealed.ts';
import type { Profile } from '../../electron/core/profile/profile.ts';
import { encodeContent } from '../../shared/protocol/content.ts';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import type { GroupMember } from '../../shared/protocol/group.ts';
import { benchProfile, benchText, introduce } from '../receive/pair.ts';
import type { Throughput } from '../receive/raw-libsignal.ts';
import { MemoryIdentityStore } from '../receive/memory-stores.ts';
import { MemorySenderKeys } from './fanout.ts';

// Receiving group messages: Sotto's pipeline (processEnvelopes: open the
// multi-recipient seal, check the certificate and membership, groupDecrypt
// with the stored chain, commit message and chain) against raw groupDecrypt
// with an in-memory sender-key store, over the same SenderKeyMessages, and
// raw unseal + groupDecrypt (what the pipeline cannot skip) as a second baseline.

function card(p: Profile, admin: boolean): GroupMember {
  return {
    accountId: p.account.accountId,
    identityKey: toBase64(p.account.identity.publicKey.serialize()),
    name: p.account.displayName,
    relay: 'wss://relay.bench.invalid',
    relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
    token: toBase64(randomBytes(16)),
    admin,
  };
}

/** `messages` group messages Alice → Bob through Bob's pipeline and through raw groupDecrypt, in batches of `batch`. */
export async function groupReceive(
  messages: number,
  batch: number,
): Promise<{
  pipeline: Throughput;
  raw: Throughput;
  rawUnsealed: Throughput;
  /** CPU µs per message (user + system), less sensitive to a busy machine than wall time. */
  cpuUs: { pipeline: number; raw: number; rawUnsealed: number };
}> {
  const alice = await benchProfile('Alice');
  const bob = await benchProfile('Bob');
  try {
    await introduce(alice, bob);
    const groupId = randomBytes(32);
    const state = {
      groupId: toBase64(groupId),
      title: 'Bench',
      revision: 0,
      head: toBase64(randomBytes(32)),
      members: [card(alice, true), card(bob, false)],
    };
    bob.commit(undefined, (db) => saveGroup(db, state, undefined, 'member', Date.now()));
    const distributionId = randomUUID();
    const aliceKeys = new SenderKeyUnit(alice.db);
    const skdm = await SenderKeyDistributionMessage.create(
      localAddress(alice),
      distributionId,
      aliceKeys.store,
    );
    const bobKeys = new SenderKeyUnit(bob.db);
    const from = peerAddress(alice.account.accountId, alice.account.deviceId);
    await processSenderKeyDistributionMessage(from, skdm, bobKeys.store);
    bob.commit(undefined, (db) => bobKeys.write(db));
    const rawKeys = new MemorySenderKeys();
    await processSenderKeyDistributionMessage(from, skdm, rawKeys);
    const unsealKeys = new MemorySenderKeys();
    await processSenderKeyDistributionMessage(from, skdm, unsealKeys);
    const bobIdentity = new MemoryIdentityStore(bob.account.identity, bob.account.registrationId);

    const ciphertexts: Uint8Array<ArrayBuffer>[] = [];
    const bodies: Uint8Array<ArrayBuffer>[] = [];
    const tx = new ProtocolTransaction(alice.state);
    const to = [peerAddress(bob.account.accountId, bob.account.deviceId)];
    for (let i = 0; i < messages; i++) {
      const content = encodeContent({
        v: 1,
        type: 'group-text',
        groupId: state.groupId,
        id: randomUUID(),
        sentAt: 1_000_000 + i,
        body: benchText(i),
      });
      const message = await groupEncrypt(
        localAddress(alice),
        distributionId,
        aliceKeys.store,
        content,
      );
      ciphertexts.push(message.serialize());
      const usmc = UnidentifiedSenderMessageContent.new(
        message,
        senderCertificate(alice),
        ContentHint.Resendable,
        groupId,
      );
      const sealed = await sealedSenderMultiRecipientEncrypt(
        usmc,
        to,
        tx.identityStore,
        tx.sessionStore,
      );
      bodies.push(sealedSenderMultiRecipientMessageForSingleRecipient(sealed));
    }

    const cpuUs = (since: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / messages;
    };
    let cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < messages; i += batch) {
      const envelopes = bodies.slice(i, i + batch).map((body, j) => ({
        id: `group-bench-${i + j}`,
        body,
        serverTime: Date.now(),
      }));
      const outcomes = await processEnvelopes(bob, envelopes);
      const bad = outcomes.find((o) => o.outcome !== 'group');
      if (bad) throw new Error(`group message not stored: ${bad.outcome}`);
    }
    const pipelineMs = performance.now() - start;
    const pipelineCpu = cpuUs(cpu);

    cpu = process.cpuUsage();
    const rawStart = performance.now();
    for (const ciphertext of ciphertexts) await groupDecrypt(from, rawKeys, ciphertext);
    const rawMs = performance.now() - rawStart;
    const rawCpu = cpuUs(cpu);

    cpu = process.cpuUsage();
    const unsealStart = performance.now();
    for (const body of bodies) {
      const usmc = await sealedSenderDecryptToUsmc(body, bobIdentity);
      await groupDecrypt(from, unsealKeys, usmc.contents());
    }
    const unsealMs = performance.now() - unsealStart;
    const unsealCpu = cpuUs(cpu);
    const rate = (ms: number) => ({ messages, ms, perSecond: (messages / ms) * 1000 });
    return {
      pipeline: rate(pipelineMs),
      raw: rate(rawMs),
      rawUnsealed: rate(unsealMs),
      cpuUs: { pipeline: pipelineCpu, raw: rawCpu, rawUnsealed: unsealCpu },
    };
  } finally {
    await alice.close();
    await bob.close();
  }
}
