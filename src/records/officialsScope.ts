import type { Locality } from '../locality/localitySchema';

/**
 * What an official may see and act on: the district (every commune) or one commune. Roles follow the officials'
 * Telegram group: the district group gives the district, a commune's group gives that commune.
 */
export type OfficialsScope = { kind: 'district' } | { kind: 'commune'; commune: string };

/** The scope an officials' group gives its members; null for any other chat. */
export function scopeOfChat(locality: Locality, districtChatId: string | null | undefined, chatId: string): OfficialsScope | null {
  if (districtChatId && chatId === districtChatId) return { kind: 'district' };
  const commune = locality.communes.find((c) => c.officialsTelegramChatId === chatId);
  return commune ? { kind: 'commune', commune: commune.id } : null;
}

export function scopeCovers(scope: OfficialsScope, commune: string): boolean {
  return scope.kind === 'district' || scope.commune === commune;
}

/** The commune ids a scope covers. */
export function communesOf(scope: OfficialsScope, locality: Locality): string[] {
  return scope.kind === 'district' ? locality.communes.map((c) => c.id) : [scope.commune];
}
