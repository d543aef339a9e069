import { computed, ref, type Ref } from 'vue';
import { MIN_SCORE, usePassphraseStrength } from './usePassphraseStrength.ts';

/**
 * How a new profile's key is protected (first run, restore): a passphrase
 * chosen twice and scored as it is typed, or the OS keychain where it is secure.
 */
export function useNewPassphrase(keychainOffered: Ref<boolean>, userInputs: Ref<string[]>) {
  const method = ref<'passphrase' | 'keychain'>('passphrase');
  const passphrase = ref('');
  const confirm = ref('');
  const usingKeychain = computed(() => keychainOffered.value && method.value === 'keychain');
  const { score, settled } = usePassphraseStrength(passphrase, userInputs);
  const weak = computed(
    () => !usingKeychain.value && (score.value === null || score.value < MIN_SCORE),
  );
  const mismatch = computed(() => !usingKeychain.value && passphrase.value !== confirm.value);
  /** Forgets the typed passphrase (after it has been used). */
  function clear(): void {
    passphrase.value = '';
    confirm.value = '';
  }
  return { method, passphrase, confirm, usingKeychain, score, settled, weak, mismatch, clear };
}
