import { nextTick, ref, watch, type Ref } from 'vue';

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
 * `settled()` resolves once the score is that of what is typed now: a form
 * awaits it before judging, so a submit made while the dictionaries still
 * load (a fast user, a password manager's fill and Enter) is judged on the
 * real score instead of being refused as weak.
 */
export function usePassphraseStrength(passphrase: Ref<string>, userInputs: Ref<string[]>) {
  const score = ref<StrengthScore | null>(null);
  let seq = 0;
  let scoring: Promise<void> = Promise.resolve();

  watch(
    [passphrase, userInputs],
    ([value, inputs]) => {
      const mine = ++seq;
      if (value === '') {
        score.value = null;
        scoring = Promise.resolve();
        return;
      }
      scoring = loadChecker().then((check) => {
        if (mine === seq) score.value = check(value, inputs);
      });
    },
    { immediate: true },
  );

  async function settled(): Promise<void> {
    // Typing that happened just before is seen by the watcher first.
    await nextTick();
    let current: Promise<void>;
    do {
      current = scoring;
      await current;
    } while (current !== scoring);
  }

  return { score, settled };
}
