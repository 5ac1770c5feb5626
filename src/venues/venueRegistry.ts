import type { OptionSource } from '../engine/contracts';
import { VENUE_VALIDATORS, VENUE_VALIDATOR_TEXT_KEYS } from './venueCodes';
import { VENUE_TEXT_KEYS } from './VenueService';

/** `myVenues`: the owner's venues, as loaded into the answers by the `loadMyVenues` action. */
const myVenues: OptionSource = ({ answers }) => {
  const list = Array.isArray(answers.myVenues) ? answers.myVenues : [];
  return list.flatMap((v) => (v && typeof v === 'object' && !Array.isArray(v) && typeof v.id === 'string' && typeof v.label === 'string' ? [{ id: v.id, label: v.label }] : []));
};

export const VENUE_OPTION_SOURCES: Record<string, OptionSource> = { myVenues };
export { VENUE_VALIDATORS };
export const VENUE_ENGINE_TEXT_KEYS: readonly string[] = [...VENUE_TEXT_KEYS, ...VENUE_VALIDATOR_TEXT_KEYS];
