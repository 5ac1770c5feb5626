import { normalizeText } from './normalize';

const GREETINGS = new Set(['xin chao', 'chao', 'chao ban', 'chao bot', 'hello', 'hi', 'hey', 'alo', 'a lo', 'chao em', 'chao anh', 'chao chi']);

/** True for a bare greeting ("Xin chào", "hi"), which shows the menu. */
export function isGreeting(text: string): boolean {
  return GREETINGS.has(normalizeText(text));
}
