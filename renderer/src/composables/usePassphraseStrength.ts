import { ref, watch, type Ref } from 'vue';

/** zxcvbn score: 0 (guessable in seconds) … 4 (very hard to guess). */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

/** The weakest score the first-run form accepts. */
export const MIN_SCORE: StrengthScore = 3;

type Checker = (passphrase: string, userInputs: string[]) => StrengthScore;

let checkerPromise: Promise<Checker> | null = null;

// The dictionaries are large; they load only when a passphrase is being chosen.
async function loadChecker(): Promise<Checker> {
  checkerPromise ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    const zxcvbn = new ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
      useLevenshteinDistance: true,
    });
    return (passphrase, userInputs) => zxcvbn.check(passphrase, userInputs).score;
  })();
  return checkerPromise;
}

/**
 * Scores a passphrase as it is typed (null while empty or while the
 * dictionaries load). `userInputs` (e.g. the display name) count as guessable.
 */
export function usePassphraseStrength(passphrase: Ref<string>, userInputs: Ref<string[]>) {
  const score = ref<StrengthScore | null>(null);
  let seq = 0;

  watch(
    [passphrase, userInputs],
    async ([value, inputs]) => {
      const mine = ++seq;
      if (value === '') {
        score.value = null;
        return;
      }
      const check = await loadChecker();
      if (mine === seq) score.value = check(value, inputs);
    },
    { immediate: true },
  );

  return { score };
}
