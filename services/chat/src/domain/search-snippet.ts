import { countCodePoints } from "@parley/runtime";

/** A word of a query or a text: a run of letters, combining marks and digits (everything else separates words). */
export const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** How a word is compared: lowercased, without diacritics (as SQLite's index folds them; Postgres's keeps them). */
export function foldWord(word: string): string {
  return word.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
}

/** A range of the snippet in code points. */
export interface Highlight {
  start: number;
  length: number;
}

export interface Snippet {
  text: string;
  highlights: Highlight[];
}

const BEFORE = 60;
const LENGTH = 160;
const ELLIPSIS = "…";

/**
 * An excerpt of at most about 160 code points around the first of the
 * words in `text`, "…" marking cut ends, with the ranges where the words
 * occur. Found by scanning the text itself, so it costs one pass over the
 * text up to its first match (a hit's text is at most 100,000 characters,
 * a page 50 hits). When no word is found as a whole (a store's index split
 * the text differently), the excerpt is the start of the text.
 */
export function snippetOf(text: string, words: readonly string[]): Snippet {
  const wanted = new Set(words.map(foldWord));
  const first = firstMatch(text, wanted);
  const before = Array.from(text.slice(Math.max(0, first - BEFORE * 4), first)).slice(-BEFORE);
  const after = Array.from(text.slice(first, first + LENGTH * 4)).slice(0, LENGTH - before.length);
  const startCut = first - before.join("").length > 0;
  const endCut = first + after.join("").length < text.length;
  const excerpt = `${startCut ? ELLIPSIS : ""}${before.join("")}${after.join("")}${endCut ? ELLIPSIS : ""}`;
  return { text: excerpt, highlights: highlightsIn(excerpt, wanted) };
}

function firstMatch(text: string, wanted: ReadonlySet<string>): number {
  for (const match of text.matchAll(WORD)) if (wanted.has(foldWord(match[0]))) return match.index;
  return 0;
}

function highlightsIn(excerpt: string, wanted: ReadonlySet<string>): Highlight[] {
  const found: Highlight[] = [];
  for (const match of excerpt.matchAll(WORD)) {
    if (!wanted.has(foldWord(match[0]))) continue;
    found.push({ start: countCodePoints(excerpt.slice(0, match.index)), length: countCodePoints(match[0]) });
  }
  return found;
}
