import { distance } from 'fastest-levenshtein';

/** The closest candidate to a mistyped word, when it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  // Nobody mistypes a 200-character name; and edit distance is quadratic in length.
  if (word.length > 200) return undefined;
  const allowedDistance = word.length >= 4 ? Math.max(2, Math.floor(word.length / 3)) : 1;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > allowedDistance) continue;
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Allow about one typo per three characters (two for short words, so a swapped pair
  // of letters still counts), and never "suggest" something unrelated.
  return best !== undefined && bestDistance <= allowedDistance ? best : undefined;
}

/** The end of a sentence about a mistyped word: "; did you mean 'x'?" or just ".". */
export const suggestion = (word: string, candidates: Iterable<string>): string => {
  const best = didYouMean(word, candidates);
  return best ? `; did you mean '${best}'?` : '.';
};
