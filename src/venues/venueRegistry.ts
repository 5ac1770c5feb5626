import type { Action, ActionContext, OptionSource } from '../engine/interpreter';
import { VENUE_VALIDATORS, VENUE_VALIDATOR_TEXT_KEYS } from './venueCodes';
import { VENUE_ACTION_NAMES, VENUE_TEXT_KEYS, type VenueActionName, type VenueService } from './VenueService';

/**
 * The venue actions by name, bound late: flows are checked at start-up before the database is opened, and the
 * service exists only once it is.
 */
export function lateBoundVenueActions(get: () => VenueService | null): Record<VenueActionName, Action> {
  return Object.fromEntries(
    VENUE_ACTION_NAMES.map((name) => [
      name,
      (ctx: ActionContext) => {
        const service = get();
        if (!service) throw new Error(`Action '${name}' ran before the venues database was opened`);
        return service.actions()[name](ctx);
      },
    ]),
  ) as Record<VenueActionName, Action>;
}

/** `myVenues`: the owner's venues, as loaded into the answers by the `loadMyVenues` action. */
const myVenues: OptionSource = ({ answers }) => {
  const list = Array.isArray(answers.myVenues) ? answers.myVenues : [];
  return list.flatMap((v) => (v && typeof v === 'object' && !Array.isArray(v) && typeof v.id === 'string' && typeof v.label === 'string' ? [{ id: v.id, label: v.label }] : []));
};

export const VENUE_OPTION_SOURCES: Record<string, OptionSource> = { myVenues };
export { VENUE_VALIDATORS };
export const VENUE_ENGINE_TEXT_KEYS: readonly string[] = [...VENUE_TEXT_KEYS, ...VENUE_VALIDATOR_TEXT_KEYS];
