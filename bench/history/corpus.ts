// Deterministic, English-like chat text for the history benchmark: Zipf-ish
// word frequencies (a few very common words, a long tail, some rare words),
// lengths from 5 to 300 characters, and ~5% CJK messages.

/** mulberry32: a small seeded PRNG, so every run builds the same history. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const COMMON_WORDS = (
  'the i you to and a it is that of in me for my we so this was be have on are not just but what with ' +
  'do can if at all no yes okay ok lol like get go know will think good time now see about'
).split(' ');

export const MEDIUM_WORDS = (
  'tomorrow today tonight morning evening weekend dinner lunch breakfast coffee tea work office meeting ' +
  'call later soon maybe really thanks thank please sorry great nice cool awesome love miss happy sad tired ' +
  'home house car train bus station airport flight ticket tickets hotel trip holiday beach mountain city park ' +
  'movie film music song concert game match team score win lost play book read write message phone email ' +
  'photo picture video birthday party gift present cake wine beer pizza restaurant kitchen cooking recipe ' +
  'doctor appointment school class exam homework project deadline report boss client money pay bill rent ' +
  'shopping store market grocery milk bread cheese chocolate weather rain sunny cold warm snow umbrella jacket ' +
  'mom dad brother sister family friend friends kids baby dog cat walk run gym yoga bike swim pool ' +
  'remember forgot forget tell said say ask asked wait waiting leave leaving arrive arrived early late ' +
  'minutes hour hours week month year next last first again already still always never sometimes ' +
  'bring take send sent check checked plan plans idea ideas question answer problem fine sure definitely'
).split(' ');

export const RARE_WORDS = (
  'xylophone quokka marmalade zeppelin kaleidoscope platypus saxophone origami labyrinth accordion ' +
  'hieroglyph narwhal quasar tambourine gazpacho sphinx ukulele walrus yodel zucchini ' +
  'aubergine bazooka chihuahua dodecahedron espadrille flamingo gondola harpsichord iguana jodhpurs'
).split(' ');

const CJK_PHRASES = [
  '明天见',
  '我们明天去吃饭吧',
  '今天很累',
  '谢谢你',
  '没问题',
  '好的',
  '你在哪里',
  '我到了',
  '晚上一起看电影吗',
  '周末有空吗',
  '生日快乐',
  '路上小心',
  '会议推迟了',
  '我马上到',
  '天气很好',
  'おはようございます',
  '明日また会いましょう',
  'ありがとう',
  '今どこにいますか',
  'すみません、遅れます',
  '駅で待っています',
  'お疲れさまでした',
  '週末は空いていますか',
  '誕生日おめでとう',
  '了解です',
  '내일 봐요',
  '고마워요',
  '지금 어디야',
  '저녁 먹었어',
];

const END = ['.', '.', '.', '!', '?', '', '', ' :)'];

type Pick = (random: () => number) => string;

function picker(words: readonly string[], skew: number): Pick {
  // Within a tier, earlier words are more frequent (random^skew biases toward 0).
  return (random) => words[Math.floor(Math.pow(random(), skew) * words.length)]!;
}

const pickCommon = picker(COMMON_WORDS, 2);
const pickMedium = picker(MEDIUM_WORDS, 1.6);
const pickRare = picker(RARE_WORDS, 1);

/** Probability that a word is from the rare tier. */
const RARE_SHARE = 0.0005;

function word(random: () => number): string {
  const r = random();
  if (r < RARE_SHARE) return pickRare(random);
  return r < 0.55 ? pickCommon(random) : pickMedium(random);
}

/** Target length: mostly short chat lines, some paragraphs, 5..300 characters. */
function targetLength(random: () => number): number {
  const r = random();
  if (r < 0.6) return 5 + Math.floor(random() * 36); // 5..40
  if (r < 0.9) return 40 + Math.floor(random() * 81); // 40..120
  return 120 + Math.floor(random() * 181); // 120..300
}

function english(random: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    const next = word(random);
    text = text ? `${text} ${next}` : next[0]!.toUpperCase() + next.slice(1);
  }
  const cut = text.lastIndexOf(' ', length);
  if (text.length > length && cut >= 5) text = text.slice(0, cut);
  return (text + END[Math.floor(random() * END.length)]!).slice(0, 300);
}

function cjk(random: () => number, length: number): string {
  const cap = Math.max(5, Math.min(length, 80));
  let text = '';
  while (text.length < cap)
    text += CJK_PHRASES[Math.floor(random() * CJK_PHRASES.length)]! + (random() < 0.5 ? '。' : '');
  return text.slice(0, 300);
}

/** Returns a generator of message bodies; the same seed yields the same sequence. */
export function messageBodies(seed: number): () => string {
  const random = rng(seed);
  return () => {
    const length = targetLength(random);
    return random() < 0.05 ? cjk(random, length) : english(random, length);
  };
}
