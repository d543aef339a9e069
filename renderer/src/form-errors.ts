// Form errors a screen reader meets: each field names its hint and its error
// (aria-describedby), and a refused submit moves focus to the first invalid
// field, so its error is read out with it instead of only turning a border red.
import { nextTick } from 'vue';

/** The aria-describedby value for ids that apply now (a hint, an error shown); undefined when none. */
export function describedBy(...ids: (string | false | null | undefined)[]): string | undefined {
  const present = ids.filter((id): id is string => typeof id === 'string' && id !== '');
  return present.length > 0 ? present.join(' ') : undefined;
}

/** After a refused submit: focuses the first field of `root` marked aria-invalid, once it has rendered. */
export async function focusFirstInvalid(root: HTMLElement | null): Promise<void> {
  await nextTick();
  root?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
